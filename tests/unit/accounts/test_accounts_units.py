"""Accounts without a database: display names, passwords, e-mail normalization, SSO claims."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from parley.accounts import passwords
from parley.accounts.errors import InvalidToken, NameInvalid, SsoNotConfigured
from parley.accounts.names import clean_display_name
from parley.accounts.services import check_password, normalize_email
from parley.accounts.sso import MAX_TIMESTAMP, looks_like_jwt, verify_token
from parley.errors import ValidationFailed

SECRET = "s" * 40
NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("  Erika   Muster ", "Erika Muster"), ("Cafe\u0301", "Café"), ("Zoë", "Zoë"), ("李雷", "李雷")],
)
def test_display_names_are_normalized(raw: str, clean: str) -> None:
    assert clean_display_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "x", " \u200b\u200b ", "a\x00b", "a\ud800", "n" * 61])
def test_unusable_display_names(raw: str) -> None:
    with pytest.raises(NameInvalid):
        clean_display_name(raw)


def test_emails() -> None:
    assert normalize_email(" Erika.Muster@Example.ORG ") == "erika.muster@example.org"
    for bad in ("no-at", "@example.org", "a@nodot", "a b@example.org", "x@" + "y" * 320 + ".org"):
        with pytest.raises(ValidationFailed):
            normalize_email(bad)


def test_passwords() -> None:
    hashed = passwords.hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password("correct horse battery staple", hashed)
    assert not passwords.verify_password("wrong", hashed)
    assert not passwords.verify_password("anything", None)  # still pays for a verification
    assert not passwords.verify_password("anything", "not-a-hash")
    check_password("x" * 8)
    for bad in ("x" * 7, "x" * 1025):
        with pytest.raises(ValidationFailed):
            check_password(bad)


def site(**kw: Any) -> Any:
    values = {"sso_secret": SECRET, "sso_public_key": None, "sso_issuer": None, "sso_audience": None}
    values.update(kw)
    return SimpleNamespace(**values)


def token(**claims: Any) -> str:
    base = {"sub": "u1", "exp": int(time.time()) + 60}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, algorithm="HS256")


def test_sso_claims() -> None:
    claims = verify_token(site(), token(name="Ria", email="ria@example.org", jti="j1"), NOW)
    assert (claims.subject, claims.name, claims.email, claims.jti) == ("u1", "Ria", "ria@example.org", "j1")
    far = verify_token(site(), token(exp=10**15), NOW)
    assert far.expires_at == datetime.fromtimestamp(MAX_TIMESTAMP, UTC)
    dropped = verify_token(site(), token(name="N\x00", email="x" * 400), NOW)
    assert dropped.name is None
    assert dropped.email is None


def test_sso_refusals() -> None:
    with pytest.raises(SsoNotConfigured):
        verify_token(site(sso_secret=None), token(), NOW)
    for bad in (
        token(sub=None),
        token(exp=None),
        token(jti=7),
        token(sub="\x00"),
        "a.b.c",
        token()[:-2] + "xx",
    ):
        with pytest.raises(InvalidToken):
            verify_token(site(), bad, NOW)
    from cryptography.hazmat.primitives.asymmetric import rsa

    rs256 = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60}, rsa.generate_private_key(65537, 2048), "RS256"
    )
    with pytest.raises(InvalidToken):  # a configured public key that is no key: refused, not a crash
        verify_token(site(sso_secret=None, sso_public_key="not a pem"), rs256, NOW)


def test_jwt_shape() -> None:
    assert looks_like_jwt("a.b.c")
    assert not looks_like_jwt("pst_a.b.c")
    assert not looks_like_jwt("abc")
