"""Authorization matrix of the workspace and the moderation endpoints, table-driven.

Every route under ``/moderate`` and every statement/appeal/sanction route of the author side is in
:data:`ROUTES` (or explicitly public in :data:`PUBLIC`); :func:`test_every_route_is_in_the_table`
enumerates the app's routes, so a new route cannot escape the matrix.

Roles: anonymous, a guest (a guest's session token), a commenter, a moderator *and admin* of
another site (``other``), and — as the positive control — a moderator of this site.
Expected: anonymous 401 (303 to the login page for a page), guest and commenter 403 everywhere; the
other site's moderator 404 for anything of this site (a comment, story, author, appeal, copy wave,
or the site itself named in the URL), and on list pages only what belongs to their own site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.audit.models import AuditEvent
from parley.clock import FrozenClock
from parley.comments.models import Comment
from support.factories import bearer, configure_site, make_site, register
from support.workspace import Mod, grant, make_copy_wave, moderator, sign_in, site_id

SECRET_TEXT = "GEHEIM-A-4711 ein Trottel"
PUBLIC = {
    ("GET", "/moderate/login"),
    ("POST", "/moderate/login"),
    ("POST", "/moderate/logout"),  # ends one's own session, whoever one is
    ("GET", "/statements/{token}"),  # readable by whoever holds the unguessable link
    ("GET", "/api/v1/statements/{token}"),
    ("POST", "/statements/{token}/login"),  # signs in; refuses nothing by role
}


@dataclass
class Objects:
    held: int
    published: int
    thread: int
    appeal: int
    author: int
    wave: int
    token: str
    commenter_email: str


# scope: "object" — names something of site A (the other site's moderator gets 404);
#        "list"   — lists the caller's own sites (the other site's moderator gets 200 without A);
#        "own"    — acts on the caller's own history (undo: nothing to undo → 409);
#        "author" — author side (the other site's moderator is not the author → 403)
Req = Callable[[Objects], tuple[str, dict[str, Any] | None]]
ROUTES: dict[tuple[str, str], list[tuple[str, Req]]] = {
    ("GET", "/moderate"): [("list", lambda o: ("/moderate", None))],
    ("GET", "/moderate/queue/{name}"): [
        *[
            ("list", lambda o, q=q: (f"/moderate/queue/{q}", None))
            for q in ("held", "reported", "appeals", "waves")
        ],
        ("list", lambda o: ("/moderate/queue/published", None)),
        ("object", lambda o: ("/moderate/queue/held?site=test", None)),
        ("object", lambda o: (f"/moderate/queue/held?story={o.thread}", None)),
    ],
    ("GET", "/moderate/comments/{comment_id}"): [
        ("object", lambda o: (f"/moderate/comments/{o.held}", None))
    ],
    ("POST", "/moderate/comments/{comment_id}/approve"): [
        ("object", lambda o: (f"/moderate/comments/{o.held}/approve", {}))
    ],
    ("POST", "/moderate/comments/{comment_id}/reject"): [
        ("object", lambda o: (f"/moderate/comments/{o.published}/reject", {"reason_code": "spam"}))
    ],
    ("POST", "/moderate/comments/{comment_id}/feature"): [
        ("object", lambda o: (f"/moderate/comments/{o.published}/feature", {"featured": "1"}))
    ],
    ("POST", "/moderate/bulk"): [
        ("object", lambda o: ("/moderate/bulk", {"ids": [o.held], "action": "approve"}))
    ],
    ("POST", "/moderate/waves/{wave_id}/{action}"): [
        ("object", lambda o: (f"/moderate/waves/{o.wave}/approve", {}))
    ],
    ("POST", "/moderate/undo"): [("own", lambda o: ("/moderate/undo", {}))],
    ("POST", "/moderate/appeals/{appeal_id}/decide"): [
        ("object", lambda o: (f"/moderate/appeals/{o.appeal}/decide", {"outcome": "reverse", "reason": "x"}))
    ],
    ("GET", "/moderate/authors/{account_id}"): [
        ("object", lambda o: (f"/moderate/authors/{o.author}", None))
    ],
    ("POST", "/moderate/authors/{account_id}/sanction"): [
        (
            "object",
            lambda o: (f"/moderate/authors/{o.author}/sanction", {"kind": "ban", "reason_code": "spam"}),
        )
    ],
    ("GET", "/moderate/stories"): [
        ("list", lambda o: ("/moderate/stories", None)),
        ("object", lambda o: ("/moderate/stories?site=test", None)),
    ],
    ("POST", "/moderate/stories/{thread_id}"): [
        ("object", lambda o: (f"/moderate/stories/{o.thread}", {"status": "closed"}))
    ],
    ("GET", "/moderate/settings"): [
        ("list", lambda o: ("/moderate/settings", None)),
        ("object", lambda o: ("/moderate/settings?site=test", None)),
    ],
    ("POST", "/moderate/settings/{slug}/terms"): [
        ("object", lambda o: ("/moderate/settings/test/terms", {"banned": "harmlos"}))
    ],
    ("POST", "/moderate/settings/{slug}/thresholds"): [
        ("object", lambda o: ("/moderate/settings/test/thresholds", {"hold_threshold": "0.1"}))
    ],
    ("POST", "/moderate/settings/{slug}/guests"): [
        ("object", lambda o: ("/moderate/settings/test/guests", {}))
    ],
    ("POST", "/moderate/settings/{slug}/cta"): [
        ("object", lambda o: ("/moderate/settings/test/cta", {"title": "x"}))
    ],
    ("POST", "/moderate/settings/{slug}/try"): [
        ("object", lambda o: ("/moderate/settings/test/try", {"text": "hallo"}))
    ],
    ("GET", "/moderate/users"): [
        ("list", lambda o: ("/moderate/users", None)),
        ("object", lambda o: ("/moderate/users?site=test", None)),
    ],
    ("POST", "/moderate/users/{slug}/roles"): [
        ("object", lambda o: ("/moderate/users/test/roles", {"email": o.commenter_email}))
    ],
    ("POST", "/moderate/users/{slug}/roles/{account_id}/remove"): [
        ("object", lambda o: (f"/moderate/users/test/roles/{o.author}/remove", {}))
    ],
    ("POST", "/moderate/users/{slug}/verify/{account_id}"): [
        ("object", lambda o: (f"/moderate/users/test/verify/{o.author}", {}))
    ],
    ("POST", "/moderate/users/{slug}/reserved"): [
        ("object", lambda o: ("/moderate/users/test/reserved", {"names": "X"}))
    ],
    ("GET", "/moderate/health"): [("list", lambda o: ("/moderate/health", None))],
    ("GET", "/moderate/workload"): [
        ("list", lambda o: ("/moderate/workload", None)),
        ("object", lambda o: ("/moderate/workload?site=test", None)),
    ],
    ("GET", "/moderate/transparency"): [
        ("list", lambda o: ("/moderate/transparency?format=json", None)),
        ("object", lambda o: ("/moderate/transparency?site=test", None)),
    ],
    ("GET", "/moderate/audit"): [
        ("list", lambda o: ("/moderate/audit", None)),
        ("object", lambda o: ("/moderate/audit?site=test", None)),
    ],
    ("GET", "/moderate/audit/export.{fmt}"): [
        ("list", lambda o: ("/moderate/audit/export.jsonl", None)),
        ("list", lambda o: ("/moderate/audit/export.csv", None)),
        ("object", lambda o: ("/moderate/audit/export.csv?site=test", None)),
    ],
    # author side: only the author concerned
    ("POST", "/api/v1/statements/{token}/appeal"): [
        ("author", lambda o: (f"/api/v1/statements/{o.token}/appeal", {"text": "Widerspruch"}))
    ],
    ("GET", "/api/v1/statements/{token}/appeal"): [
        ("author", lambda o: (f"/api/v1/statements/{o.token}/appeal", None))
    ],
    ("POST", "/statements/{token}"): [
        ("author", lambda o: (f"/statements/{o.token}", {"text": "Widerspruch"}))
    ],
    ("GET", "/api/v1/me/sanctions"): [("mine", lambda o: ("/api/v1/me/sanctions", None))],
    ("GET", "/api/v1/me/reports"): [("mine", lambda o: ("/api/v1/me/reports", None))],
}
WORKSPACE_PREFIXES = (
    "/moderate",
    "/statements",
    "/api/v1/statements",
    "/api/v1/me/sanctions",
    "/api/v1/me/reports",
)


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    found = set()
    for rc in iter_route_contexts(app.routes):
        path = getattr(rc, "path", "") or ""
        if not path.startswith(WORKSPACE_PREFIXES) or path.startswith("/moderate/static"):
            continue
        for method in getattr(rc, "methods", None) or ():
            if method != "HEAD":
                found.add((method, path))
    assert found, "no workspace routes found: the enumeration is broken"
    missing, gone = found - set(ROUTES) - PUBLIC, (set(ROUTES) | PUBLIC) - found
    assert not missing, f"routes without a row in the authorization table: {sorted(missing)}"
    assert not gone, f"rows for routes that no longer exist: {sorted(gone)}"


@pytest.fixture
def world(app: FastAPI, client: TestClient, clock: FrozenClock) -> dict[str, Any]:
    db = app.state.registry.db
    make_site(db, clock, "other", name="Andere Zeitung", allowed_origins=["http://other.example"])
    configure_site(app, "test", moderation={"terms": {"suspect": ["trottel"]}})
    author = register(client)
    held = client.post(
        "/api/v1/threads/artikel-a/comments",
        json={"body": SECRET_TEXT, "title": "Artikel A"},
        headers=bearer(author["token"]),
    ).json()
    published = client.post(
        "/api/v1/threads/artikel-a/comments",
        json={"body": "Ganz normal, GEHEIM-A-0815."},
        headers=bearer(author["token"]),
    ).json()
    assert held["comment"]["status"] == "held"
    token = held["statement_url"].rsplit("/", 1)[1]
    appeal = client.post(
        f"/api/v1/statements/{token}/appeal", json={"text": "Bitte prüfen"}, headers=bearer(author["token"])
    )
    assert appeal.status_code == 201, appeal.text
    make_copy_wave(db, clock, published["comment"]["id"], ["Kopie GEHEIM-A-0815 " * 3])
    with db.read() as s:
        thread_id = s.scalar(select(Comment.thread_id).where(Comment.id == held["comment"]["id"]))
    guest = client.post(
        "/api/v1/threads/artikel-a/comments", json={"body": "Als Gast", "author_name": "Gast Erna"}
    ).json()["session"]["token"]
    client.cookies.clear()
    commenter = register(client)
    other_mod = moderator(app, clock, slug="other", role="admin")
    this_mod = moderator(app, clock, slug="test")
    objects = Objects(
        held=held["comment"]["id"],
        published=published["comment"]["id"],
        thread=int(thread_id or 0),
        appeal=appeal.json()["id"],
        author=author["account"]["id"],
        wave=published["comment"]["id"],
        token=token,
        commenter_email=commenter["account"]["email"],
    )
    return {
        "objects": objects,
        "guest": guest,
        "commenter": commenter["token"],
        "other": other_mod,
        "this": this_mod,
    }


def _send(
    client: TestClient, method: str, url: str, data: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.post(url, json=data, headers=headers)
    return client.post(url, data=data, headers=headers)


def _as_mod(mod: Mod, method: str, url: str, data: dict[str, Any] | None) -> Any:
    return _send(mod.client, method, url, data, {"X-CSRF-Token": mod.csrf})


def test_the_matrix(app: FastAPI, client: TestClient, world: dict[str, Any]) -> None:
    objects: Objects = world["objects"]
    db = app.state.registry.db
    with db.read() as s:
        events_before = s.scalar(select(func.count(AuditEvent.id)))
    anon = TestClient(app, base_url="http://testserver", follow_redirects=False)
    cells = 0
    failures = []
    for (method, template), requests in ROUTES.items():
        for scope, make in requests:
            url, data = make(objects)
            # anonymous
            r = _send(anon, method, url, data, {})
            want = {401, 303} if template.startswith("/moderate") else {401}
            if template == "/statements/{token}":
                want = {401, 403}  # no session: no CSRF token either
            if r.status_code not in want or (
                r.status_code == 303 and "/moderate/login" not in r.headers["location"]
            ):
                failures.append(f"anonymous {method} {url}: {r.status_code}")
            # guest and commenter (bearer tokens: no CSRF involved)
            for role in ("guest", "commenter"):
                r = _send(anon, method, url, data, bearer(world[role]))
                expected = {403}
                if scope == "mine":
                    expected = {200}
                if template == "/statements/{token}" and role in ("guest", "commenter"):
                    expected = {401, 403}  # the page's form needs the author's cookie session
                if r.status_code not in expected:
                    failures.append(f"{role} {method} {url}: {r.status_code} {r.text[:120]}")
                if scope == "mine" and "GEHEIM" in r.text:
                    failures.append(f"{role} {method} {url}: sees someone else's data")
            # the moderator (and admin) of another site
            other: Mod = world["other"]
            r = _as_mod(other, method, url, data)
            expected = {
                "object": {404},
                "list": {200, 303},
                "own": {409},
                "author": {403},
                "mine": {200},
            }[scope]
            if r.status_code not in expected:
                failures.append(f"other-site moderator {method} {url}: {r.status_code} {r.text[:120]}")
            # (the statement page shows the statement to whoever holds its link, not the comment)
            public_page = template == "/statements/{token}"
            if "GEHEIM-A" in r.text or ("Artikel A" in r.text and not public_page):
                failures.append(f"other-site moderator {method} {url}: sees site A's data")
            cells += 4
    # positive control: this site's moderator sees every page
    this: Mod = world["this"]
    for (method, template), requests in ROUTES.items():
        if method != "GET" or template.startswith("/api/"):
            continue
        for _scope, make in requests:
            url, _ = make(objects)
            r = this.get(url)
            if template == "/moderate/users" or (template == "/moderate" and r.status_code == 303):
                continue  # site admins only / a redirect to the held queue
            if r.status_code != 200:
                failures.append(f"this site's moderator GET {url}: {r.status_code}")
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)
    # and nothing of site A changed
    with db.read() as s:
        held = s.get(Comment, objects.held)
        published = s.get(Comment, objects.published)
        assert held is not None
        assert held.status == "held"
        assert published is not None
        assert published.status == "published"
        assert s.scalar(select(func.count(AuditEvent.id))) == events_before


def test_site_roles_make_a_moderator(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    """A commenter cannot sign in to the workspace; a site role lets them in for that site only."""
    data = register(client)
    email, account_id = data["account"]["email"], data["account"]["id"]
    anon = TestClient(app, base_url="http://testserver", follow_redirects=False)
    refused = anon.post("/moderate/login", data={"email": email, "password": "correct horse battery staple"})
    assert refused.status_code == 403
    assert "parley_session" not in refused.cookies
    grant(app.state.registry.db, clock, account_id, site_id(app.state.registry.db, "test"))
    mod = sign_in(app, email, account_id)
    assert mod.get("/moderate/queue/held").status_code == 200
    foreign = anon.post(
        "/moderate/login",
        data={"email": email, "password": "correct horse battery staple"},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
