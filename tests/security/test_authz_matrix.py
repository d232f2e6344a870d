"""Authorization matrix of the API (and the other non-workspace routes), table-driven:
every route × every role × (this site's object | another site's object).

Roles: ``anonymous``, ``guest`` (a guest's session), ``commenter``, ``author`` (of the objects),
``mod_this`` (moderator of site A), ``mod_other`` (moderator of site B), ``admin`` (global admin,
with a session). Objects live on site A (``test``); a request "from site B" names ``other`` in
``X-Parley-Site``, and an admin token bound to site B asks for site A's admin routes. Rule: another
site's object answers 404, never 403, and never leaks its text.

:func:`test_every_route_is_in_the_table` enumerates the app's routes, so a new route cannot escape
the matrix. Workspace, statement and appeal routes have their own matrix in
``tests/functional/test_workspace_authz.py`` (listed in :data:`ELSEWHERE`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from parley.accounts.models import Account, Role
from parley.accounts.services import do_create_session
from parley.app import create_app
from parley.clock import FrozenClock
from parley.comments import rendering
from parley.comments.services import do_insert_comment
from parley.comments.threads import do_get_or_create_thread
from parley.config import Settings
from parley.notifications.services import unsubscribe_url
from parley.sites.models import SiteRole
from parley.sites.services import get_site_by_slug
from support.apps import TEST_MODERATION, checking_client
from support.factories import make_account, make_api_token, make_site

ROLES = ("anonymous", "guest", "commenter", "author", "mod_this", "mod_other", "admin")
SECRET = "GEHEIM-A-1234"
ELSEWHERE = ("/moderate", "/statements", "/api/v1/statements", "/api/v1/me/sanctions", "/api/v1/me/reports")
OTHER = {"X-Parley-Site": "other"}


@dataclass
class World:
    app: FastAPI
    clock: FrozenClock
    tokens: dict[str, str]  # role -> bearer token ("" for anonymous)
    accounts: dict[str, int]
    published: int  # site A, by the author, text holds SECRET
    held: int  # site A, by the author
    other_comment: int  # site B
    admin_token_other: str  # an admin API token bound to site B
    hook_id: int = 0
    made: list[str] = field(default_factory=list)

    def comment(self, status: str = "published") -> int:
        """A fresh comment on site A by the author (for cells that change or delete it)."""
        db = self.app.state.registry.db
        with db.write() as s:
            site = get_site_by_slug(s, "test")
            thread = do_get_or_create_thread(s, site, "artikel-a", self.clock.now())
            author = s.get(Account, self.accounts["author"])
            assert author is not None
            c = do_insert_comment(
                s,
                site=site,
                thread=thread,
                parent=None,
                author=author,
                body=rendering.render(f"{SECRET} frisch {uuid.uuid4().hex[:6]}"),
                status=status,
                now=self.clock.now(),
                ip_hash=None,
            )
            return c.id

    def fresh_token(self, role: str) -> str:
        """Another session of the role's account (for logout, which ends the session it names)."""
        if role == "anonymous":
            return ""
        with self.app.state.registry.db.write() as s:
            account = s.get(Account, self.accounts[role])
            assert account is not None
            return do_create_session(s, account, self.clock.now(), 1).token


def _session(app: FastAPI, clock: FrozenClock, account_id: int) -> str:
    with app.state.registry.db.write() as s:
        account = s.get(Account, account_id)
        assert account is not None
        return do_create_session(s, account, clock.now(), 1).token


@pytest.fixture
def world(settings: Settings, clock: FrozenClock) -> Iterator[World]:
    configured = settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],
            "live_stream_seconds": 0.2,
            "webhook_timeout": 1,
        }
    )
    app = create_app(configured, clock=clock)
    db = app.state.registry.db
    a = make_site(db, clock, "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
    b = make_site(db, clock, "other", name="Andere Zeitung", settings={"moderation": TEST_MODERATION})
    accounts = {
        "commenter": make_account(db, clock, password=None),
        "author": make_account(db, clock, password=None),
        "mod_this": make_account(db, clock, password=None),
        "mod_other": make_account(db, clock, password=None),
        "admin": make_account(db, clock, password=None, role=Role.ADMIN),
    }
    with db.write() as s:
        s.add(SiteRole(site_id=a, account_id=accounts["mod_this"], role="moderator", created_at=clock.now()))
        s.add(SiteRole(site_id=b, account_id=accounts["mod_other"], role="moderator", created_at=clock.now()))
    with checking_client(app) as c:
        guest = c.post(
            "/api/v1/threads/artikel-a/comments", json={"body": "Gast hier.", "author_name": "Gast Erna"}
        )
        assert guest.status_code == 201, guest.text
        c.cookies.clear()
    tokens = {"anonymous": "", "guest": guest.json()["session"]["token"]}
    accounts["guest"] = guest.json()["session"]["account_id"]
    tokens.update({role: _session(app, clock, accounts[role]) for role in accounts if role != "guest"})
    w = World(
        app=app,
        clock=clock,
        tokens=tokens,
        accounts=accounts,
        published=0,
        held=0,
        other_comment=0,
        admin_token_other=make_api_token(db, clock, accounts["admin"], site_id=b),
    )
    w.published = w.comment()
    w.held = w.comment("held")
    from support.factories import make_comments

    w.other_comment = make_comments(db, clock, "artikel-b", 1, site="other", text="GEHEIM-B-5678")[0]
    with checking_client(app) as c:
        hook = c.post(
            "/api/v1/admin/sites/test/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["*"]},
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        assert hook.status_code == 201, hook.text
        w.hook_id = hook.json()["id"]
    yield w
    app.state.registry.close()


Expect = dict[str, int | set[int]]


def each(status: int | set[int]) -> Expect:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int | set[int], anonymous: int = 401) -> Expect:
    return {**each(status), "anonymous": anonymous}


def admin_only(status: int | set[int]) -> Expect:
    return {**each(403), "anonymous": 401, "admin": status}


def author_only(status: int | set[int], others: int = 403) -> Expect:
    return {**each(others), "anonymous": 401, "author": status}


CROSS_404 = signed_in(404)  # another site's object: 404 for everyone who gets past "log in first"
ANY_404 = each(404)


@dataclass(frozen=True)
class Cell:
    """One request of a route; ``make`` builds (path, json body, extra headers) for a role."""

    method: str
    route: str
    make: Callable[[World, str], tuple[str, Any, dict[str, str]]]
    expect: Expect
    hides: str | None = None  # text that must not appear in any answer of this cell


def fixed(path: str, body: Any = None, headers: dict[str, str] | None = None) -> Callable[..., Any]:
    return lambda w, role: (path.format(w=w), body, dict(headers or {}))


def uniq(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


CELLS: list[Cell] = [
    # --- comments ----------------------------------------------------------------------------------
    Cell(
        "GET",
        "/api/v1/threads/{thread_key:path}/comments",
        fixed("/api/v1/threads/artikel-a/comments"),
        each(200),
    ),
    Cell(
        "GET",
        "/api/v1/threads/{thread_key:path}/comments",
        fixed("/api/v1/threads/artikel-a/comments", headers=OTHER),
        each(200),  # site B has no such story: an empty page, nothing of site A
        hides=SECRET,
    ),
    Cell(
        "POST",
        "/api/v1/threads/{thread_key:path}/comments",
        lambda w, role: (
            "/api/v1/threads/artikel-a/comments",
            {"body": uniq("Neu "), "author_name": uniq("Gast ")},
            {},
        ),
        each(201),
    ),
    Cell(
        "POST",
        "/api/v1/threads/{thread_key:path}/comments",
        lambda w, role: (
            "/api/v1/threads/artikel-b/comments",
            {"body": "Antwort", "author_name": uniq("Gast "), "parent_id": w.published},
            OTHER,
        ),
        each(422),  # invalid_parent: a reply to another site's comment
    ),
    Cell("GET", "/api/v1/comments/{comment_id}", fixed("/api/v1/comments/{w.published}"), each(200)),
    Cell(
        "GET",
        "/api/v1/comments/{comment_id}",
        fixed("/api/v1/comments/{w.held}"),
        {**each(404), "author": 200},
    ),
    Cell(
        "GET",
        "/api/v1/comments/{comment_id}",
        fixed("/api/v1/comments/{w.published}", headers=OTHER),
        ANY_404,
        SECRET,
    ),
    Cell(
        "GET",
        "/api/v1/comments/{comment_id}/replies",
        fixed("/api/v1/comments/{w.published}/replies"),
        each(200),
    ),
    Cell(
        "GET",
        "/api/v1/comments/{comment_id}/replies",
        fixed("/api/v1/comments/{w.published}/replies", headers=OTHER),
        ANY_404,
        SECRET,
    ),
    Cell(
        "PATCH",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment()}", {"body": "Geändert."}, {}),
        author_only(200),
    ),
    Cell(
        "PATCH",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment('held')}", {"body": "Geändert."}, {}),
        author_only(200, others=404),  # others do not learn that a held comment exists
    ),
    Cell(
        "PATCH",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment()}", {"body": "Geändert."}, OTHER),
        CROSS_404,
        SECRET,
    ),
    Cell(
        "DELETE",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment()}", None, {}),
        {**author_only(204), "admin": 204},  # global staff may delete any comment
    ),
    Cell(
        "DELETE",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment('held')}", None, {}),
        {**author_only(204, others=404), "admin": 204},
    ),
    Cell(
        "DELETE",
        "/api/v1/comments/{comment_id}",
        lambda w, role: (f"/api/v1/comments/{w.comment()}", None, OTHER),
        CROSS_404,
    ),
    Cell(
        "PUT",
        "/api/v1/comments/{comment_id}/vote",
        fixed("/api/v1/comments/{w.published}/vote", {"value": 1}),
        signed_in(200),
    ),
    Cell(
        "PUT",
        "/api/v1/comments/{comment_id}/vote",
        fixed("/api/v1/comments/{w.held}/vote", {"value": 1}),
        signed_in(404),
    ),
    Cell(
        "PUT",
        "/api/v1/comments/{comment_id}/vote",
        fixed("/api/v1/comments/{w.published}/vote", {"value": 1}, OTHER),
        CROSS_404,
        SECRET,
    ),
    Cell(
        "POST",
        "/api/v1/comments/{comment_id}/reports",
        lambda w, role: (f"/api/v1/comments/{w.comment()}/reports", {"reason": "spam"}, {}),
        each(201),  # a fresh comment each time: three reports would hold it
    ),
    Cell(
        "POST",
        "/api/v1/comments/{comment_id}/reports",
        fixed("/api/v1/comments/{w.held}/reports", {"reason": "spam"}),
        ANY_404,
    ),
    Cell(
        "POST",
        "/api/v1/comments/{comment_id}/reports",
        fixed("/api/v1/comments/{w.published}/reports", {"reason": "spam"}, OTHER),
        ANY_404,
        SECRET,
    ),
    Cell("GET", "/api/v1/counts", fixed("/api/v1/counts?threads=artikel-a"), each(200)),
    Cell("GET", "/api/v1/counts", fixed("/api/v1/counts?threads=artikel-a", headers=OTHER), each(200)),
    Cell(
        "GET",
        "/api/v1/threads/{thread_key:path}/events",
        fixed("/api/v1/threads/artikel-a/events"),
        each(200),
    ),
    # --- accounts ----------------------------------------------------------------------------------
    Cell(
        "POST",
        "/api/v1/auth/register",
        lambda w, role: (
            "/api/v1/auth/register",
            {
                "name": "Neu " + "".join(__import__("random").choice("bcdfghjkpqstxyz") for _ in range(8)),
                "email": uniq("neu") + "@example.org",
                "password": "x" * 12,
            },
            {},
        ),
        each(201),
    ),
    Cell(
        "POST",
        "/api/v1/auth/login",
        fixed("/api/v1/auth/login", {"email": "nobody@example.org", "password": "x" * 12}),
        each(401),
    ),
    Cell(
        "POST", "/api/v1/auth/sso", fixed("/api/v1/auth/sso", {"token": "a.b.c"}), each(400)
    ),  # site A has no SSO
    # a sign-up's confirmation: the token is the proof, whoever sends it (a forged one is refused)
    Cell("POST", "/api/v1/auth/confirm", fixed("/api/v1/auth/confirm", {"token": "1.forged"}), each(400)),
    Cell("GET", "/account/confirm", fixed("/account/confirm?token=1.forged"), each(400)),
    Cell("POST", "/account/confirm", fixed("/account/confirm"), each(400)),
    Cell("POST", "/api/v1/auth/logout", fixed("/api/v1/auth/logout"), each(204)),
    Cell("GET", "/api/v1/me", fixed("/api/v1/me"), signed_in(200)),
    Cell(
        "PATCH",
        "/api/v1/me",
        lambda w, role: (
            "/api/v1/me",
            {
                "name": "Umbenannt "
                + "".join(__import__("random").choice("bcdfghjkpqstxyz") for _ in range(8))
            },
            {},
        ),
        signed_in(200),
    ),
    Cell("GET", "/api/v1/me/export", fixed("/api/v1/me/export"), signed_in(200)),
    Cell("GET", "/api/v1/me/notifications", fixed("/api/v1/me/notifications"), signed_in(200)),
    Cell("POST", "/api/v1/me/notifications/read", fixed("/api/v1/me/notifications/read", {}), signed_in(200)),
    Cell(
        "GET", "/api/v1/me/notification-settings", fixed("/api/v1/me/notification-settings"), signed_in(200)
    ),
    Cell(
        "PUT",
        "/api/v1/me/notification-settings",
        fixed("/api/v1/me/notification-settings", {"reply_emails": False}),
        signed_in(200),
    ),
    # --- admin (global admins only; a token bound to site B learns nothing of site A) ------------------
    Cell("GET", "/api/v1/admin/sites", fixed("/api/v1/admin/sites"), admin_only(200)),
    Cell(
        "POST",
        "/api/v1/admin/sites",
        lambda w, role: ("/api/v1/admin/sites", {"slug": uniq("s-"), "name": "Neu"}, {}),
        admin_only(201),
    ),
    Cell("GET", "/api/v1/admin/sites/{slug}", fixed("/api/v1/admin/sites/test"), admin_only(200)),
    Cell(
        "PATCH",
        "/api/v1/admin/sites/{slug}",
        fixed("/api/v1/admin/sites/test", {"name": "Testzeitung"}),
        admin_only(200),
    ),
    Cell(
        "GET",
        "/api/v1/admin/sites/{slug}/threads/{key:path}",
        fixed("/api/v1/admin/sites/test/threads/artikel-a"),
        admin_only(200),
    ),
    Cell(
        "PATCH",
        "/api/v1/admin/sites/{slug}/threads/{key:path}",
        fixed("/api/v1/admin/sites/test/threads/artikel-a", {"title": "A"}),
        admin_only(200),
    ),
    Cell(
        "POST",
        "/api/v1/admin/sites/{slug}/threads/{key:path}/close",
        fixed("/api/v1/admin/sites/test/threads/artikel-a/close"),
        admin_only(200),
    ),
    Cell(
        "POST",
        "/api/v1/admin/sites/{slug}/threads/{key:path}/open",
        fixed("/api/v1/admin/sites/test/threads/artikel-a/open"),
        admin_only(200),
    ),
    Cell(
        "GET",
        "/api/v1/admin/sites/{slug}/webhooks",
        fixed("/api/v1/admin/sites/test/webhooks"),
        admin_only(200),
    ),
    Cell(
        "POST",
        "/api/v1/admin/sites/{slug}/webhooks",
        fixed("/api/v1/admin/sites/test/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"]}),
        admin_only(201),
    ),
    Cell(
        "POST",
        "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/enable",
        fixed("/api/v1/admin/sites/test/webhooks/{w.hook_id}/enable"),
        admin_only(200),
    ),
    Cell(
        "POST",
        "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/test",
        fixed("/api/v1/admin/sites/test/webhooks/{w.hook_id}/test"),
        admin_only(200),
    ),
    Cell(
        "GET",
        "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/deliveries",
        fixed("/api/v1/admin/sites/test/webhooks/{w.hook_id}/deliveries"),
        admin_only(200),
    ),
    Cell(
        "DELETE",
        "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}",
        lambda w, role: (f"/api/v1/admin/sites/test/webhooks/{w.hook_id}", None, {}),
        {**admin_only(204)},
    ),
    # --- public pages and files: the same answer whatever the credentials --------------------------
    Cell("GET", "/", fixed("/"), each(200)),
    Cell("GET", "/healthz", fixed("/healthz"), each(200)),
    Cell("GET", "/readyz", fixed("/readyz"), each(200)),
    # operators only (loopback or metrics_token): no API credential opens it, not even an admin's
    Cell("GET", "/metrics", fixed("/metrics"), each(404)),
    Cell("GET", "/embed.js", fixed("/embed.js"), each(200)),
    Cell("GET", "/embed.{digest}.js", fixed("/embed.0000000000.js"), each(307)),  # to the current one
    Cell("GET", "/api/v1/openapi.json", fixed("/api/v1/openapi.json"), each(200)),
    Cell("GET", "/api/v1/docs", fixed("/api/v1/docs"), each(200)),
    Cell("GET", "/docs/oauth2-redirect", fixed("/docs/oauth2-redirect"), each(200)),
    Cell(
        "GET",
        "/notifications/unsubscribe",
        lambda w, role: (
            unsubscribe_url("", w.app.state.registry.settings.secret, w.accounts["author"], "reply"),
            None,
            {},
        ),
        each(200),  # whoever holds the signed link
    ),
    Cell(
        "POST",
        "/notifications/unsubscribe",
        lambda w, role: (
            f"/notifications/unsubscribe?a={w.accounts['commenter']}&k=reply&s=forged",
            None,
            {},
        ),
        each({400, 403, 404}),
    ),
    # --- last: erasing one's own account --------------------------------------------------------------
    Cell("DELETE", "/api/v1/me", fixed("/api/v1/me"), {**signed_in(204)}),
]


def _headers(w: World, role: str, method: str, route: str, extra: dict[str, str]) -> dict[str, str]:
    token = w.fresh_token(role) if route == "/api/v1/auth/logout" else w.tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return {**headers, **extra}


def test_every_route_is_in_the_table(world: World) -> None:
    found = set()
    for rc in iter_route_contexts(world.app.routes):
        path = getattr(rc, "path", "") or ""
        if path.startswith(ELSEWHERE) or path.startswith("/moderate/static"):
            continue
        for method in getattr(rc, "methods", None) or ():
            if method != "HEAD":
                found.add((method, path))
    assert len(found) > 40, "the enumeration is broken"
    table = {(c.method, c.route) for c in CELLS}
    assert not found - table, f"routes without a row in the matrix: {sorted(found - table)}"
    assert not table - found, f"rows for routes that no longer exist: {sorted(table - found)}"


def test_the_matrix(world: World) -> None:
    failures: list[str] = []
    cells = 0
    # an admin token bound to site B asks for site A's admin routes: 404, the site "does not exist"
    with TestClient(world.app, base_url="http://testserver") as client:
        for cell in CELLS:
            if not cell.route.startswith("/api/v1/admin/sites/{slug}"):
                continue
            path, body, _ = cell.make(world, "admin")
            r = client.request(
                cell.method, path, json=body, headers={"Authorization": f"Bearer {world.admin_token_other}"}
            )
            cells += 1
            if r.status_code != 404:
                failures.append(f"site-B admin token {cell.method} {path}: {r.status_code}, want 404")
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        for cell in CELLS:
            for role in ROLES:
                path, body, extra = cell.make(world, role)
                headers = _headers(world, role, cell.method, cell.route, extra)
                client.cookies.clear()
                r = client.request(cell.method, path, json=body, headers=headers)
                cells += 1
                want = cell.expect[role]
                ok = r.status_code in want if isinstance(want, set) else r.status_code == want
                if not ok:
                    got = f"{r.status_code} (want {want}) {r.text[:100]}"
                    failures.append(f"{role:10} {cell.method} {path} {extra or ''}: {got}")
                if cell.hides and cell.hides in r.text:
                    failures.append(f"{role:10} {cell.method} {path} {extra}: shows another site's text")
    print(f"authorization matrix: {cells} cells")
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)
