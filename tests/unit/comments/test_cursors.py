"""Keyset cursors: opaque, signed per purpose, refused when forged, edited or out of place."""

from __future__ import annotations

import base64

import pytest

from parley.comments.cursors import InvalidCursor, decode, encode

SECRET = b"s" * 32


def test_round_trip() -> None:
    key = [0.123456789012, 42]
    assert decode(SECRET, "top:1:best", encode(SECRET, "top:1:best", key)) == key
    assert decode(SECRET, "sub:7", encode(SECRET, "sub:7", ["0000000100000002"])) == ["0000000100000002"]


@pytest.mark.parametrize(
    ("secret", "purpose"),
    [(b"t" * 32, "top:1:best"), (SECRET, "top:2:best"), (SECRET, "top:1:top"), (SECRET, "sub:1")],
)
def test_a_cursor_is_bound_to_its_secret_and_purpose(secret: bytes, purpose: str) -> None:
    cursor = encode(SECRET, "top:1:best", [1.0, 5])
    with pytest.raises(InvalidCursor):
        decode(secret, purpose, cursor)


def test_an_edited_payload_fails_the_signature() -> None:
    cursor = encode(SECRET, "p", [1.0, 5])
    _, _, sig = cursor.partition(".")
    forged = base64.urlsafe_b64encode(b"[1.0, 4]").decode().rstrip("=") + "." + sig
    with pytest.raises(InvalidCursor):
        decode(SECRET, "p", forged)


@pytest.mark.parametrize(
    "cursor",
    ["", "abc", "a.b.c", ".", "!!!.sig", "äöü.x", "a" * 2049, "e30.AAAA", "a\x00.b"],
)
def test_garbage_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode(SECRET, "p", cursor)


def test_a_signed_payload_that_is_no_list_is_invalid() -> None:
    from parley.security import b64e, sign

    payload = b'{"a": 1}'
    with pytest.raises(InvalidCursor):
        decode(SECRET, "p", f"{b64e(payload)}.{sign(SECRET, 'p', payload)}")
    payload = b"not json"
    with pytest.raises(InvalidCursor):
        decode(SECRET, "p", f"{b64e(payload)}.{sign(SECRET, 'p', payload)}")


def test_the_error_is_a_400_with_a_stable_code() -> None:
    assert (InvalidCursor.status, InvalidCursor.code.value) == (400, "invalid_cursor")
