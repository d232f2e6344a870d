"""Publisher SSO tokens: every forged, stale, misdirected or replayed token is refused — both when
exchanged at ``/auth/sso`` and when sent as a bearer token — and leaves no account, session, SSO
link or comment behind. A valid token for each site is the positive control (so a refusal below is
for the reason named, not for a broken set-up).

``tests/functional/test_sso.py`` covers the same ground one case at a time (and the name rules, far
future expiry, unstorable claims); this is the battery's table, with ``kid`` added.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.accounts.models import Account, SessionRecord, SsoIdentity
from parley.clock import FrozenClock
from parley.comments.models import Comment
from support.factories import bearer, configure_site, make_site, site_cache_clear

SECRET = "publisher-shared-secret-for-the-battery-0123456789"
OTHER_SECRET = "another-publisher-secret-for-the-battery-987654"
ISS, AUD, KID = "https://verlag.example", "parley", "hs-2026-11"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "reader-" + uuid.uuid4().hex[:8],
        # names must not look alike (the look-alike check folds digits onto letters)
        "name": "Leserin " + "".join(random.choice("bcdfghjkpqstxyz") for _ in range(8)),
        "email": "sophie@verlag.example",
        "iss": ISS,
        "aud": AUD,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def hs(headers: dict[str, Any] | None = None, key: str = SECRET, **over: Any) -> str:
    return jwt.encode(claims(**over), key, algorithm="HS256", headers={"kid": KID, **(headers or {})})


def rs(headers: dict[str, Any] | None = None, key: Any = RSA_KEY, **over: Any) -> str:
    return jwt.encode(claims(**over), key, algorithm="RS256", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """Built by hand: the libraries refuse to make the malicious ones."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return signing_input + "." + b64(sig)


def tampered() -> str:
    head, _, sig = hs().split(".")
    return f"{head}.{b64(json.dumps(claims(sub='admin', name='Admin')).encode())}.{sig}"


REPLAYED = "replayed"
now = int(time.time())
# (case, site, make token)
CASES: list[tuple[str, str, Callable[[], str]]] = [
    ("alg-none", "hs", lambda: forge({"alg": "none", "typ": "JWT"}, claims(), None)),
    ("alg-None", "hs", lambda: forge({"alg": "None", "typ": "JWT", "kid": KID}, claims(), None)),
    ("alg-NONE-rs-site", "rs", lambda: forge({"alg": "NONE"}, claims(), None)),
    ("alg-missing", "hs", lambda: forge({"typ": "JWT", "kid": KID}, claims(), SECRET.encode())),
    (
        "hs-signed-with-the-rs-public-key",
        "rs",
        lambda: forge({"alg": "HS256"}, claims(), RSA_PUBLIC.encode()),
    ),
    ("rs-token-at-an-hs-site", "hs", lambda: rs({"kid": KID})),
    ("hs512", "hs", lambda: jwt.encode(claims(), SECRET * 2, algorithm="HS512", headers={"kid": KID})),
    ("bad-signature-hs", "hs", lambda: hs(key=OTHER_SECRET)),
    ("bad-signature-rs", "rs", lambda: rs(key=OTHER_RSA)),
    ("tampered-payload", "hs", tampered),
    ("signature-stripped", "hs", lambda: hs().rsplit(".", 1)[0] + "."),
    ("expired", "hs", lambda: hs(exp=now - 120, iat=now - 600)),
    ("expired-rs", "rs", lambda: rs(exp=now - 120, iat=now - 600)),
    ("no-exp", "hs", lambda: hs(exp=None)),
    ("future-iat", "hs", lambda: hs(iat=now + 3600, exp=now + 7200)),
    ("not-yet-valid-nbf", "hs", lambda: hs(nbf=now + 3600)),
    ("wrong-aud", "hs", lambda: hs(aud="someone-else")),
    ("no-aud", "hs", lambda: hs(aud=None)),
    ("wrong-iss", "hs", lambda: hs(iss="https://evil.example")),
    ("no-iss", "hs", lambda: hs(iss=None)),
    ("no-sub", "hs", lambda: hs(sub=None)),
    ("unknown-kid", "hs", lambda: hs({"kid": "hs-2019-01"})),
    ("kid-at-a-site-without-key-ids", "rs", lambda: rs({"kid": "whatever"})),
    ("kid-not-a-string", "hs", lambda: forge({"alg": "HS256", "kid": 7}, claims(), SECRET.encode())),
    ("jku-pointing-elsewhere", "rs", lambda: rs({"kid": "x", "jku": "https://evil.example/jwks.json"})),
    ("garbage", "hs", lambda: "eyJhbGciOiJIUzI1NiJ9.e30."),
    (REPLAYED, "hs", lambda: hs(jti="used-once")),
]


@pytest.fixture
def sites(app: FastAPI, clock: FrozenClock) -> None:
    from parley.sites.models import Site

    db = app.state.registry.db
    make_site(db, clock, "hs", name="HS-Zeitung", sso_secret=SECRET)
    make_site(db, clock, "rs", name="RS-Zeitung", sso_public_key=RSA_PUBLIC)
    with db.write() as s:
        for site in s.scalars(select(Site).where(Site.slug.in_(["hs", "rs"]))):
            site.sso_issuer, site.sso_audience = ISS, AUD
    configure_site(app, "hs", sso_key_id=KID)
    site_cache_clear(app)


def counts(app: FastAPI) -> tuple[int, ...]:
    with app.state.registry.db.read() as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Account, SessionRecord, SsoIdentity, Comment)
        )


def exchange(client: TestClient, token: str, site: str) -> Any:
    r = client.post("/api/v1/auth/sso", json={"token": token}, headers={"X-Parley-Site": site})
    client.cookies.clear()
    return r


def test_valid_tokens_are_the_control(client: TestClient, sites: None) -> None:
    for site, token in (("hs", hs()), ("rs", rs()), ("rs", rs(iss=ISS))):
        assert exchange(client, token, site).status_code == 200, site
    # no kid at all is fine (one key per site); the right kid too
    assert exchange(client, jwt.encode(claims(), SECRET, algorithm="HS256"), "hs").status_code == 200
    r = client.post(
        "/api/v1/threads/sso-story/comments",
        json={"body": "Angemeldet über den Verlag."},
        headers={**bearer(rs()), "X-Parley-Site": "rs"},
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(("case", "site", "make"), CASES, ids=[c[0] for c in CASES])
def test_refused_without_a_trace(
    app: FastAPI, client: TestClient, sites: None, case: str, site: str, make: Callable[[], str]
) -> None:
    token = make()
    if case == REPLAYED:
        assert exchange(client, token, site).status_code == 200  # the first use
    before = counts(app)
    r = exchange(client, token, site)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_token"
    assert "set-cookie" not in r.headers
    if case != REPLAYED:  # a bearer token is not single use; its exchange is
        posted = client.post(
            "/api/v1/threads/refused/comments",
            json={"body": "Sollte nicht gehen."},
            headers={**bearer(token), "X-Parley-Site": site},
        )
        assert posted.status_code == 401, posted.text
        assert posted.json()["code"] == "invalid_token"
        me = client.get("/api/v1/me", headers={**bearer(token), "X-Parley-Site": site})
        assert me.status_code == 401
    assert counts(app) == before, "a refused token left an account, a session, a link or a comment"
