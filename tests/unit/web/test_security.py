"""Client addresses (X-Forwarded-For only from trusted proxies), keyed IP hashes, tokens, signatures."""

from __future__ import annotations

import pytest

from parley.security import b64d, b64e, client_ip, hash_ip, hash_token, new_token, sign, verify

PROXY = ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        ("203.0.113.5", None, [], "203.0.113.5"),
        ("203.0.113.5", "1.2.3.4", [], "203.0.113.5"),  # an untrusted peer cannot choose its address
        ("203.0.113.5", "1.2.3.4", PROXY, "203.0.113.5"),  # nor can one outside the trusted networks
        ("10.0.0.2", "198.51.100.7", PROXY, "198.51.100.7"),
        ("10.0.0.2", "1.1.1.1, 198.51.100.7, 10.0.0.9", PROXY, "198.51.100.7"),  # the first untrusted hop
        ("10.0.0.2", "garbage, 10.0.0.3", PROXY, "10.0.0.3"),  # stops at what is no address
        ("::ffff:10.0.0.2", "198.51.100.7", PROXY, "198.51.100.7"),  # v4-mapped peers are v4
        (None, "1.2.3.4", PROXY, None),
    ],
)
def test_client_ip(peer: str | None, xff: str | None, trusted: list[str], expected: str | None) -> None:
    assert client_ip(peer, xff, trusted) == expected


def test_ip_hashes() -> None:
    key = b"k" * 32
    assert hash_ip(key, "198.51.100.7") == hash_ip(key, "::ffff:198.51.100.7")
    assert hash_ip(key, "198.51.100.7") != hash_ip(key, "198.51.100.8")
    assert hash_ip(key, "2001:db8::1") == hash_ip(key, "2001:db8::ffff")  # one /64: one household
    assert hash_ip(key, "2001:db8::1") != hash_ip(key, "2001:db8:0:1::1")
    assert hash_ip(b"other" * 8, "198.51.100.7") != hash_ip(key, "198.51.100.7")
    assert hash_ip(key, "testclient") is None
    assert hash_ip(key, None) is None
    assert "198.51.100.7" not in (hash_ip(key, "198.51.100.7") or "")


def test_tokens_and_signatures() -> None:
    a, b = new_token("pst"), new_token("pst")
    assert a.startswith("pst_")
    assert a != b
    assert len(a) > 40
    assert hash_token(a) != hash_token(b)
    assert len(hash_token(a)) == 64
    assert hash_token("\ud800") != ""  # a lone surrogate from a header does not crash the lookup
    sig = sign(b"s", "purpose", b"payload")
    assert verify(b"s", "purpose", b"payload", sig)
    assert not verify(b"s", "other", b"payload", sig)
    assert not verify(b"t", "purpose", b"payload", sig)
    assert b64d(b64e(b"\x00\xffdata")) == b"\x00\xffdata"
