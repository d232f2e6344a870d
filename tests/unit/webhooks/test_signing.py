"""The signature scheme receivers rely on: HMAC-SHA256 over "t.body", with a time window."""

from __future__ import annotations

import hashlib
import hmac

from parley.webhooks import signing

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"comment.created"}'


def test_header_is_t_and_v1_over_timestamp_dot_body() -> None:
    header = signing.signature_header(SECRET, 1700000000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_fresh_and_refuses_forged_tampered_or_replayed() -> None:
    header = signing.signature_header(SECRET, 1700000000, BODY)
    assert signing.verify(SECRET, header, BODY, now=1700000010)
    assert not signing.verify("whsec_other", header, BODY, now=1700000010)
    assert not signing.verify(SECRET, header, BODY + b" ", now=1700000010)
    assert not signing.verify(SECRET, header, BODY, now=1700000000 + 301)  # replayed later
    assert not signing.verify(SECRET, "v1=abc", BODY, now=1700000000)
    assert not signing.verify(SECRET, "t=x,v1=abc", BODY, now=1700000000)


def test_secrets_are_long_and_unique() -> None:
    a, b = signing.new_secret(), signing.new_secret()
    assert a != b
    assert len(a) > 40
