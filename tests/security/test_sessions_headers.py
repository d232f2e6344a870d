"""Sessions, passwords and response headers (ASVS 4.0.3 §2–§3, §14.4).

Sessions: the cookie of every door that sets one (API registration and login, a guest's first
comment, the workspace login) is HttpOnly, SameSite=Lax, Path=/, and Secure when Parley is served
over TLS (``public_url`` https, or ``cookie_secure``); a login rotates the session (the cookie the
browser brought is ended); logout ends the session server-side (the token is dead, not just the
cookie); login and the workspace login answer a wrong password and an unknown address alike.
Parley has no password-reset flow (nothing to enumerate there). Registration with e-mail
confirmation (on whenever mail is sent) answers a taken and a free address alike: same status, same
body, no cookie. Without mail (``mail_backend = "null"``, development) it still says
``email_taken``. Login throttling is ``test_rate_limits.py``.

Headers: every HTML page of the app (enumerated from the route table, so a new page cannot escape)
carries ``X-Content-Type-Options: nosniff``, a ``Referrer-Policy``, a CSP with ``frame-ancestors``
and ``object-src 'none'``; workspace pages a CSP without ``'unsafe-inline'`` or ``'unsafe-eval'``
and ``frame-ancestors 'none'``.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx2 import Response

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.notifications.services import unsubscribe_url
from support.apps import TEST_MODERATION, checking_client
from support.factories import (
    PASSWORD,
    bearer,
    configure_site,
    make_account,
    make_comments,
    make_site,
    register,
)
from support.workspace import grant, moderator, site_id

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
ME = "/api/v1/me"


def cookie_of(r: Response) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(r.headers["set-cookie"])
    m = jar["parley_session"]
    return {"value": m.value, **{k: v for k, v in m.items() if v}}


@pytest.fixture
def tls_app(settings: Settings, clock: FrozenClock) -> Any:
    app = create_app(settings.model_copy(update={"public_url": "https://comments.example"}), clock=clock)
    make_site(
        app.state.registry.db,
        clock,
        "test",
        allowed_origins=["https://comments.example"],
        settings={"moderation": TEST_MODERATION},
    )
    yield app
    app.state.registry.close()


def every_door(app: FastAPI, clock: FrozenClock, base: str) -> dict[str, Response]:
    """The answers that set a session cookie: registration, login, a guest's comment, workspace login."""
    out: dict[str, Response] = {}
    with TestClient(app, base_url=base, follow_redirects=False) as c:
        out["register"] = c.post(
            REGISTER, json={"name": "Tessa Tor", "email": "tessa@example.org", "password": PASSWORD}
        )
        c.cookies.clear()
        out["login"] = c.post(LOGIN, json={"email": "tessa@example.org", "password": PASSWORD})
        c.cookies.clear()
        out["guest comment"] = c.post(
            "/api/v1/threads/t/comments", json={"body": "Als Gast.", "author_name": "Gast Tor"}
        )
        c.cookies.clear()
    db = app.state.registry.db
    email = "moderatorin-tor@example.org"
    grant(db, clock, make_account(db, clock, email=email), site_id(db, "test"))
    with TestClient(app, base_url=base, follow_redirects=False) as c:
        out["workspace login"] = c.post(
            "/moderate/login", data={"email": email, "password": PASSWORD, "next": "/moderate"}
        )
    return out


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_every_session_cookie_has_safe_flags(
    request: pytest.FixtureRequest, settings: Settings, clock: FrozenClock, tls: bool
) -> None:
    app = request.getfixturevalue("tls_app" if tls else "app")
    base = "https://comments.example" if tls else "http://testserver"
    for door, r in every_door(app, clock, base).items():
        assert r.status_code in (200, 201, 303), (door, r.status_code, r.text[:200])
        cookie = cookie_of(r)
        assert cookie["httponly"] is True, door
        assert cookie["samesite"].lower() in ("lax", "strict"), door
        assert cookie["path"] == "/", door
        assert bool(cookie.get("secure")) is tls, f"{door}: Secure must follow TLS"
        assert len(cookie["value"]) >= 32, door  # long random tokens


def test_login_rotates_and_logout_kills_the_session_on_both_doors(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    # API: the session the browser brought is ended by the login
    first = register(client)
    email = first["account"]["email"]
    client.cookies.set("parley_session", first["token"])
    r = client.post(LOGIN, json={"email": email, "password": PASSWORD})
    new = r.json()["token"]
    assert new != first["token"]
    client.cookies.clear()
    assert client.get(ME, headers=bearer(first["token"])).status_code == 401
    # logout (bearer) ends it server-side: the token is dead everywhere
    assert client.post("/api/v1/auth/logout", headers=bearer(new)).status_code == 204
    assert client.get(ME, headers=bearer(new)).status_code == 401
    # workspace: the login form ends the session the browser brought, logout ends the new one
    mod = moderator(app, clock)
    old = mod.client.cookies.get("parley_session")
    assert old
    again = mod.client.post(
        "/moderate/login", data={"email": mod.email, "password": PASSWORD, "next": "/moderate"}
    )
    assert again.status_code == 303
    rotated = cookie_of(again)["value"]
    assert rotated != old
    mod.client.cookies.clear()
    assert client.get(ME, headers=bearer(old)).status_code == 401
    mod.client.cookies.set("parley_session", rotated)
    csrf = mod.client.get(ME).json()["csrf_token"]
    assert mod.client.post("/moderate/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get(ME, headers=bearer(rotated)).status_code == 401
    assert mod.client.get("/moderate/queue/held").status_code in (303, 401, 403)


def test_login_answers_do_not_tell_who_has_an_account(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    account = register(client)
    email = account["account"]["email"]
    client.cookies.clear()
    wrong = client.post(LOGIN, json={"email": email, "password": "falsches Passwort"})
    unknown = client.post(LOGIN, json={"email": "niemand-hier@example.org", "password": "falsches Passwort"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers.get("set-cookie") is None
    assert unknown.headers.get("set-cookie") is None
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        pages = [
            c.post("/moderate/login", data={"email": e, "password": "falsches Passwort", "next": "/moderate"})
            for e in (email, "niemand-hier@example.org")
        ]
    assert pages[0].status_code == pages[1].status_code == 401
    # the page repeats the typed address; with it blanked out the two pages are the same
    texts = [p.text.replace(e, "") for p, e in zip(pages, (email, "niemand-hier@example.org"), strict=True)]
    assert texts[0] == texts[1]


@pytest.fixture
def confirming_app(settings: Settings, clock: FrozenClock) -> Any:
    """Mail goes out by SMTP, so sign-ups wait for their confirmation (``registration_confirmation``
    ``auto``). No job runs here: nothing is sent, the answers are what is compared."""
    configured = settings.model_copy(
        update={"mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": 9}
    )
    assert configured.registration_confirms
    app = create_app(configured, clock=clock)
    make_site(app.state.registry.db, clock, "test", settings={"moderation": TEST_MODERATION})
    yield app
    app.state.registry.close()


def test_registration_does_not_tell_who_has_an_account(confirming_app: FastAPI, clock: FrozenClock) -> None:
    taken = "schon-da@example.org"
    make_account(confirming_app.state.registry.db, clock, email=taken)
    with checking_client(confirming_app) as c:
        answers = [
            c.post(REGISTER, json={"name": "Neue Person", "email": taken.upper(), "password": PASSWORD}),
            c.post(
                REGISTER,
                json={"name": "Andere Person", "email": "frisch-hier@example.org", "password": PASSWORD},
            ),
        ]
    for r in answers:
        assert "set-cookie" not in r.headers
    (r, fresh) = answers
    assert (r.status_code, r.headers["content-type"], r.content) == (
        fresh.status_code,
        fresh.headers["content-type"],
        fresh.content,
    )
    assert r.status_code == 202


# --- headers -------------------------------------------------------------------------------------------

NOT_HTML = (
    "/embed.js",
    "/embed.{digest}.js",
    "/metrics",
    "/healthz",
    "/readyz",
    "/moderate/audit/export.{fmt}",
)


def html_routes(app: FastAPI) -> set[str]:
    found = set()
    for rc in iter_route_contexts(app.routes):
        path = getattr(rc, "path", "") or ""
        if "GET" in (getattr(rc, "methods", None) or ()) and not path.startswith("/api/"):
            found.add(path)
    return found - set(NOT_HTML)


def test_every_html_page_carries_the_security_headers(app: FastAPI, clock: FrozenClock) -> None:
    db = app.state.registry.db
    configure_site(app, "test", moderation={**TEST_MODERATION, "premoderate_all": True})
    with checking_client(app) as c:
        reader = register(c)
        held = c.post(
            "/api/v1/threads/kopf/comments", json={"body": "Kopfzeilen."}, headers=bearer(reader["token"])
        ).json()
    configure_site(app, "test", moderation=TEST_MODERATION)
    [cid] = make_comments(db, clock, "kopf", 1)
    token = held["statement_url"].rsplit("/", 1)[1]
    admin = moderator(app, clock, role="admin")
    pages = {
        "/": None,
        "/docs/oauth2-redirect": None,
        "/notifications/unsubscribe": unsubscribe_url(
            "", app.state.registry.settings.secret, reader["account"]["id"], "reply"
        ),
        "/statements/{token}": f"/statements/{token}",
        "/account/confirm": "/account/confirm?token=1.not-a-signature",  # the error page
        "/moderate/login": None,
        "/moderate": "/moderate/queue/held",  # /moderate redirects there
        "/moderate/queue/{name}": "/moderate/queue/held",
        "/moderate/comments/{comment_id}": f"/moderate/comments/{cid}",
        "/moderate/authors/{account_id}": f"/moderate/authors/{reader['account']['id']}",
        "/moderate/stories": None,
        "/moderate/settings": None,
        "/moderate/users": None,
        "/moderate/health": None,
        "/moderate/workload": None,
        "/moderate/transparency": None,
        "/moderate/audit": None,
    }
    assert html_routes(app) == set(pages), "a new HTML route needs a row here"
    problems = []
    for route, url in pages.items():
        r = admin.client.get(url or route, follow_redirects=False)
        if "text/html" not in r.headers.get("content-type", ""):
            problems.append(f"{route}: {r.status_code} {r.headers.get('content-type')}")
            continue
        h = r.headers
        csp = h.get("content-security-policy", "")
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
        if h.get("x-content-type-options") != "nosniff":
            problems.append(f"{route}: nosniff missing")
        if not h.get("referrer-policy"):
            problems.append(f"{route}: Referrer-Policy missing")
        if "frame-ancestors" not in directives:
            problems.append(f"{route}: frame-ancestors missing ({csp!r})")
        if directives.get("object-src") != "object-src 'none'":
            problems.append(f"{route}: object-src not 'none'")
        if route.startswith(("/moderate", "/statements", "/account")):
            if "unsafe-inline" in csp or "unsafe-eval" in csp:
                problems.append(f"{route}: CSP allows unsafe-inline/eval: {csp!r}")
            if "script-src" not in directives and "default-src" not in directives:
                problems.append(f"{route}: no script-src")
        if route.startswith("/moderate") and directives.get("frame-ancestors") != "frame-ancestors 'none'":
            problems.append(f"{route}: workspace may be framed: {directives.get('frame-ancestors')!r}")
    assert not problems, "\n".join(problems)
