"""Accounts: register, login, logout, me; the session cookie's flags; CSRF on cookie-authenticated
writes (and not on bearer tokens); names and e-mails that are taken."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.accounts.models import Account
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.apps import TEST_MODERATION, checking_client
from support.factories import PASSWORD, bearer, post, register

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def session_cookie(response: Any) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    morsel = jar["parley_session"]
    return {"value": morsel.value, **{k: v for k, v in morsel.items() if v}}


def test_register_logs_in_with_a_safe_cookie(client: TestClient) -> None:
    r = client.post(REGISTER, json={"name": "Nina Neu", "email": "Nina@Example.org", "password": PASSWORD})
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["account"] == {
        "id": data["account"]["id"],
        "name": "Nina Neu",
        "role": "commenter",
        "kind": "local",
        "verified": False,
        "status": "active",
        "email": "Nina@Example.org",
    }
    assert data["token"].startswith("pst_")
    assert data["csrf_token"]
    cookie = session_cookie(r)
    assert cookie["value"] == data["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert not cookie.get("secure")  # http://testserver: a Secure cookie would never come back
    assert int(cookie["max-age"]) == 30 * 86400
    me = client.get(ME).json()  # the client kept the cookie
    assert me["name"] == "Nina Neu"
    assert me["csrf_token"] == data["csrf_token"]
    client.cookies.clear()


def test_cookies_are_secure_behind_https(settings: Settings, clock: FrozenClock, tmp_path: Path) -> None:
    from parley.app import create_app
    from support.factories import make_site

    app = create_app(settings.model_copy(update={"public_url": "https://comments.example"}), clock=clock)
    make_site(app.state.registry.db, clock, "test", settings={"moderation": TEST_MODERATION})
    with checking_client(app) as c:
        r = c.post(REGISTER, json={"name": "Sina Sicher", "email": "s@example.org", "password": PASSWORD})
        assert r.status_code == 201
        assert session_cookie(r)["secure"] is True
    app.state.registry.close()


def test_taken_names_and_addresses(client: TestClient) -> None:
    register(client, name="Hans Huber", email="hans@example.org")
    r = client.post(REGISTER, json={"name": "Other Name", "email": "HANS@example.org", "password": PASSWORD})
    assert r.status_code == 409
    assert r.json()["code"] == "email_taken"
    r = client.post(REGISTER, json={"name": "Hans  Hüber", "email": "h2@example.org", "password": PASSWORD})
    assert r.status_code == 409
    assert r.json()["code"] == "name_taken"
    r = client.post(REGISTER, json={"name": "Redaktion", "email": "r@example.org", "password": PASSWORD})
    assert r.status_code == 409
    assert r.json()["code"] == "name_taken"
    r = client.post(REGISTER, json={"name": "X", "email": "x@example.org", "password": PASSWORD})
    assert r.status_code == 422
    assert r.json()["code"] == "name_invalid"
    client.cookies.clear()


def test_login_rotates_the_session_and_does_not_tell_who_exists(client: TestClient) -> None:
    account = register(client, email="lotte@example.org")
    wrong = client.post(LOGIN, json={"email": "lotte@example.org", "password": "not the password"})
    unknown = client.post(LOGIN, json={"email": "nobody@example.org", "password": "not the password"})
    garbage = client.post(LOGIN, json={"email": "not an address", "password": "x"})
    for r in (wrong, unknown, garbage):
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_credentials"
    assert wrong.json() == unknown.json() == garbage.json()
    client.cookies.set("parley_session", account["token"])
    r = client.post(LOGIN, json={"email": "LOTTE@example.org", "password": PASSWORD})
    assert r.status_code == 200
    new = r.json()["token"]
    assert new != account["token"]
    client.cookies.clear()
    assert client.get(ME, headers=bearer(account["token"])).status_code == 401  # the old one is gone
    assert client.get(ME, headers=bearer(new)).json()["email"] == "lotte@example.org"


def test_me_needs_a_login(client: TestClient) -> None:
    r = client.get(ME)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    client.cookies.set("parley_session", "pst_stale")
    assert client.get(ME).status_code == 401  # a stale cookie is simply logged out
    client.cookies.clear()


def test_logout_with_cookie_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    account = register(client)
    client.cookies.set("parley_session", account["token"])
    r = client.post(LOGOUT)
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    assert client.get(ME).status_code == 200
    r = client.post(LOGOUT, headers={"X-CSRF-Token": account["csrf_token"]})
    assert r.status_code == 204
    assert "parley_session=" in r.headers["set-cookie"]
    assert "Max-Age=0" in r.headers["set-cookie"]
    client.cookies.clear()
    assert client.get(ME, headers=bearer(account["token"])).status_code == 401


def test_bearer_tokens_need_no_csrf(client: TestClient) -> None:
    account = register(client)
    assert post(client, "b", "Ohne CSRF-Token.", token=account["token"]).status_code == 201
    r = client.patch(ME, json={"name": "Neuer Name"}, headers=bearer(account["token"]))
    assert r.status_code == 200
    assert r.json()["name"] == "Neuer Name"
    assert client.post(LOGOUT, headers=bearer(account["token"])).status_code == 204
    assert client.get(ME, headers=bearer(account["token"])).status_code == 401


def test_cookie_writes_need_the_sessions_own_csrf_token(client: TestClient) -> None:
    a, b = register(client), register(client)
    client.cookies.set("parley_session", a["token"])
    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": b["csrf_token"]}):
        r = client.patch(ME, json={"name": "Gekapert"}, headers=headers)
        assert r.status_code == 403
        assert r.json()["code"] == "csrf_failed"
    r = client.patch(ME, json={"name": "Selbst Geändert"}, headers={"X-CSRF-Token": a["csrf_token"]})
    assert r.status_code == 200
    assert r.json()["name"] == "Selbst Geändert"
    assert client.get(ME).status_code == 200  # reads need no token
    client.cookies.clear()


def test_banned_and_suspended_accounts_cannot_write(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    account = register(client)
    with db.write() as s:
        row = s.get(Account, account["account"]["id"])
        assert row is not None
        row.status = "suspended"
        row.suspended_until = clock.now().replace(year=clock.now().year + 1)
    r = post(client, "ban", "Darf ich?", token=account["token"])
    assert r.status_code == 403
    assert r.json()["code"] == "account_suspended"
    with db.write() as s:
        row = s.get(Account, account["account"]["id"])
        assert row is not None
        row.status = "banned"
    r = post(client, "ban", "Und jetzt?", token=account["token"])
    assert r.status_code == 403
    assert r.json()["code"] == "account_banned"
    r = client.post(LOGIN, json={"email": account["account"]["email"], "password": PASSWORD})
    assert r.status_code == 403
    assert r.json()["code"] == "account_banned"


def test_registration_needs_the_right_shape(app: FastAPI, client: TestClient) -> None:
    r = client.post(REGISTER, json={"name": "Kurz Passwort", "email": "k@example.org", "password": "1234567"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password"
    r = client.post(REGISTER, json={"name": "Ohne At", "email": "example.org", "password": PASSWORD})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "email"
