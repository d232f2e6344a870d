"""Publisher single sign-on: JWTs signed with the site's secret (HS256) or the publisher's key (RS256),
exchanged at ``/auth/sso`` or sent as a bearer token. Every broken token is refused and leaves no
session and no account behind."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.accounts.models import Account, SessionRecord, SsoIdentity
from parley.clock import FrozenClock
from parley.db.database import Database
from support.factories import bearer, make_site

SECRET = "publisher-shared-secret-0123456789-abcdef"
SSO = "/api/v1/auth/sso"


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[Any, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


@pytest.fixture
def sites(db: Database, clock: FrozenClock, rsa_keys: tuple[Any, str]) -> None:
    make_site(db, clock, "hs", name="HS-Zeitung", sso_secret=SECRET)
    make_site(db, clock, "rs", name="RS-Zeitung", sso_public_key=rsa_keys[1])


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "reader-1", "name": "Sophie Single", "email": "sophie@verlag.example", "exp": now + 300}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def hs(**over: Any) -> str:
    return jwt.encode(claims(**over), SECRET, algorithm="HS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token built by hand (libraries refuse to make the malicious ones)."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return signing_input + "." + b64(sig)


def exchange(client: TestClient, token: str, site: str = "hs") -> Any:
    r = client.post(SSO, json={"token": token}, headers={"X-Parley-Site": site})
    client.cookies.clear()
    return r


@pytest.fixture
def nothing_created(db: Database) -> Iterator[None]:
    def counts() -> tuple[int, int, int]:
        with db.read() as s:
            return tuple(  # type: ignore[return-value]
                int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Account, SessionRecord, SsoIdentity)
            )

    before = counts()
    yield
    assert counts() == before, "a refused token created an account or a session"


def test_hs256_exchange_links_one_account_per_subject(client: TestClient, sites: None, db: Database) -> None:
    r = exchange(client, hs(jti=str(uuid.uuid4())))
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["account"]["name"] == "Sophie Single"
    assert first["account"]["kind"] == "sso"
    assert first["token"].startswith("pst_")
    assert first["csrf_token"]
    again = exchange(client, hs(jti=str(uuid.uuid4()), name="Sophie Umbenannt"))
    assert again.json()["account"]["id"] == first["account"]["id"]
    assert again.json()["account"]["name"] == "Sophie Umbenannt"  # the publisher's name wins
    other = exchange(client, hs(sub="reader-2", name="Zweite Leserin"))
    assert other.json()["account"]["id"] != first["account"]["id"]
    me = client.get("/api/v1/me", headers=bearer(first["token"])).json()
    assert me["email"] == "sophie@verlag.example"


def test_rs256_with_the_publishers_key(client: TestClient, sites: None, rsa_keys: tuple[Any, str]) -> None:
    token = jwt.encode(claims(sub="rs-reader", name="Rita Rsa"), rsa_keys[0], algorithm="RS256")
    r = exchange(client, token, site="rs")
    assert r.status_code == 200, r.text
    assert r.json()["account"]["name"] == "Rita Rsa"
    # and directly as a bearer token for a comment
    r = client.post(
        "/api/v1/threads/rs-story/comments",
        json={"body": "Mit RSA angemeldet."},
        headers={**bearer(token), "X-Parley-Site": "rs"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["comment"]["author"]["name"] == "Rita Rsa"


def test_bearer_sso_token_reads_and_posts(client: TestClient, sites: None) -> None:
    token = hs(sub="bearer-reader", name="Bea Bearer")
    headers = {**bearer(token), "X-Parley-Site": "hs"}
    r = client.post("/api/v1/threads/hs-story/comments", json={"body": "Erster Beitrag."}, headers=headers)
    assert r.status_code == 201, r.text
    listing = client.get("/api/v1/threads/hs-story/comments", headers=headers).json()
    assert listing["comments"][0]["mine"] is True


def _refused(client: TestClient, token: str, site: str = "hs") -> None:
    r = exchange(client, token, site)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "invalid_token"
    r = client.post(
        "/api/v1/threads/refused/comments",
        json={"body": "Sollte nicht gehen."},
        headers={**bearer(token), "X-Parley-Site": site},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


@pytest.mark.usefixtures("sites", "nothing_created")
class TestRefusedTokens:
    def test_expired(self, client: TestClient) -> None:
        _refused(client, hs(exp=int(time.time()) - 120))

    def test_wrong_signature(self, client: TestClient) -> None:
        _refused(client, jwt.encode(claims(), SECRET + "-but-another-one", algorithm="HS256"))

    def test_tampered_payload(self, client: TestClient) -> None:
        head, _, sig = hs().split(".")
        payload = b64(json.dumps(claims(sub="admin", name="Admin")).encode())
        _refused(client, f"{head}.{payload}.{sig}")

    def test_alg_none(self, client: TestClient) -> None:
        _refused(client, forge({"alg": "none", "typ": "JWT"}, claims(), None))
        _refused(client, forge({"alg": "None", "typ": "JWT"}, claims(), None))

    def test_hs_rs_confusion(self, client: TestClient, rsa_keys: tuple[Any, str]) -> None:
        # an HS256 token "signed" with the publisher's public key, which is no secret
        _refused(client, forge({"alg": "HS256", "typ": "JWT"}, claims(), rsa_keys[1].encode()), site="rs")
        # and an RS256 token sent to a site that only knows a shared secret
        _refused(client, jwt.encode(claims(), rsa_keys[0], algorithm="RS256"), site="hs")

    def test_unknown_algorithms(self, client: TestClient) -> None:
        _refused(client, jwt.encode(claims(), SECRET * 2, algorithm="HS512"))
        _refused(client, jwt.encode(claims(), SECRET * 2, algorithm="HS384"))

    def test_future_iat(self, client: TestClient) -> None:
        _refused(client, hs(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200))

    def test_missing_sub(self, client: TestClient) -> None:
        _refused(client, hs(sub=None))

    def test_missing_exp(self, client: TestClient) -> None:
        _refused(client, hs(exp=None))

    def test_absurd_exp_and_claims(self, client: TestClient) -> None:
        _refused(client, hs(exp="tomorrow"))
        _refused(client, hs(sub=12345))
        _refused(client, hs(sub=""))
        _refused(client, hs(sub="x" * 300))

    def test_garbage(self, client: TestClient) -> None:
        for token in ("a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 5000 + ".y.z"):
            _refused(client, token)


def test_far_future_expiry_is_not_a_crash(client: TestClient, sites: None) -> None:
    """exp = 10^12 (year 33658) passes PyJWT; turning it into a date must not be a 500."""
    r = exchange(client, hs(exp=10**12, jti="far-future"))
    assert r.status_code == 200, r.text
    assert exchange(client, hs(exp=10**12, jti="far-future")).status_code == 401  # still single use
    assert exchange(client, hs(exp=10**20, sub="r2", name="Zweite Leserin", jti="farther")).status_code == 200


def test_unstorable_claims(client: TestClient, sites: None) -> None:
    """NUL and lone surrogates arrive as JSON escapes inside a validly signed token."""
    for bad in (hs(sub="a\x00b"), hs(jti="j\x00"), hs(sub="\ud800")):
        r = exchange(client, bad)
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"
    r = exchange(client, hs(sub="clean", name="Nina\x00Nul", email="n\x00@example.org"))
    assert r.status_code == 200, r.text
    account = r.json()["account"]
    assert account["email"] is None
    assert "\x00" not in account["name"]


def test_replayed_jti_is_refused(client: TestClient, sites: None, db: Database) -> None:
    token = hs(jti="once-" + uuid.uuid4().hex)
    assert exchange(client, token).status_code == 200
    with db.read() as s:
        sessions = int(s.scalar(select(func.count()).select_from(SessionRecord)) or 0)
    r = exchange(client, token)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"
    with db.read() as s:
        assert int(s.scalar(select(func.count()).select_from(SessionRecord)) or 0) == sessions
    # the same jti on another site is another token
    assert exchange(client, jwt.encode(claims(jti="shared"), SECRET, algorithm="HS256")).status_code == 200


def test_issuer_and_audience_when_configured(client: TestClient, sites: None, db: Database) -> None:
    from parley.sites.models import Site

    with db.write() as s:
        site = s.scalar(select(Site).where(Site.slug == "hs"))
        assert site is not None
        site.sso_issuer, site.sso_audience = "https://verlag.example", "parley"
    client.app.state.registry.extras.get("site_cache", type("C", (), {"clear": lambda self: None})()).clear()
    good = hs(iss="https://verlag.example", aud="parley", jti="iss-aud-ok")
    assert exchange(client, good).status_code == 200
    for bad in (
        hs(aud="parley"),
        hs(iss="https://verlag.example"),
        hs(iss="https://evil.example", aud="parley"),
        hs(iss="https://verlag.example", aud="other"),
    ):
        r = exchange(client, bad)
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"


def test_sites_without_sso(client: TestClient) -> None:
    r = exchange(client, hs(), site="test")
    assert r.status_code == 400
    assert r.json()["code"] == "sso_not_configured"
