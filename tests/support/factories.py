"""Test factories: sites, accounts, logins and comments, through services or the HTTP API."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from parley.accounts.models import Role
from parley.accounts.services import do_create_account, do_create_api_token
from parley.clock import Clock
from parley.db.database import Database
from parley.sites.services import do_create_site

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


_SYLLABLES = ("ba", "de", "fi", "go", "ku", "la", "me", "ni", "po", "su", "ta", "ve", "wi", "xo", "zu", "he")


def spelled(n: int) -> str:
    """A name part from syllables: account names must not look alike, and the look-alike check reads
    digits as letters (0 as o, 1 as l), so numbered names would collide."""
    out = ""
    while True:
        n, r = divmod(n, len(_SYLLABLES))
        out = _SYLLABLES[r] + out
        if n == 0:
            return out.capitalize()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def make_site(db: Database, clock: Clock, slug: str, **kw: Any) -> int:
    with db.write() as s:
        site = do_create_site(s, slug=slug, name=kw.pop("name", f"Site {slug}"), now=clock.now(), **kw)
        return site.id


def make_account(
    db: Database,
    clock: Clock,
    *,
    name: str | None = None,
    email: str | None = None,
    password: str | None = PASSWORD,
    role: Role = Role.COMMENTER,
    verified: bool = False,
) -> int:
    n = next(_seq)
    with db.write() as s:
        acc = do_create_account(
            s,
            name=name or f"Leserin {spelled(n)}",
            email=email or f"reader{n}@example.org",
            password=password,
            role=role,
            verified=verified,
            now=clock.now(),
        )
        return acc.id


def make_api_token(db: Database, clock: Clock, account_id: int, site_id: int | None = None) -> str:
    from parley.accounts.models import Account

    with db.write() as s:
        acc = s.get(Account, account_id)
        assert acc is not None
        return do_create_api_token(s, acc, "test", clock.now(), site_id)


def register(client: TestClient, name: str | None = None, email: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    r = client.post(
        "/api/v1/auth/register",
        json={
            "name": name or f"Leser {spelled(n)}",
            "email": email or f"user{n}@example.org",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    client.cookies.clear()  # tests pick cookie or bearer auth explicitly
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: TestClient, thread: str, body: str, *, token: str | None = None, **fields: Any) -> Response:
    payload: dict[str, Any] = {"body": body, **fields}
    if token is None and "author_name" not in payload:
        payload["author_name"] = unique("Gast ")
    headers = bearer(token) if token else {}
    r = client.post(f"/api/v1/threads/{thread}/comments", json=payload, headers=headers)
    client.cookies.clear()
    return r


# --- service-level helpers: fast set-up of big threads without going through HTTP -----------------


def site_cache_clear(app: Any) -> None:
    """Forget the app's cached sites (they are cached for a few seconds per process)."""
    cache = app.state.registry.extras.get("site_cache")
    if cache is not None:
        cache.clear()


def configure_site(app: Any, slug: str, **changes: Any) -> None:
    """Merge ``changes`` into a site's settings (validated) and make the app see them at once."""
    from parley.sites.services import do_update_site_settings, get_site_by_slug

    with app.state.registry.db.write() as s:
        do_update_site_settings(s, get_site_by_slug(s, slug), changes)
    site_cache_clear(app)


def make_comments(
    db: Database,
    clock: Clock,
    thread_key: str,
    n: int,
    *,
    site: str = "test",
    parent_id: int | None = None,
    text: str = "Kommentar {i}",
    status: str = "published",
    author: str | None = None,
) -> list[int]:
    """Insert ``n`` comments (or replies to ``parent_id``) through the write services, in one transaction."""
    from parley.accounts.models import Account, AccountKind
    from parley.comments import rendering
    from parley.comments.models import Comment
    from parley.comments.services import do_insert_comment
    from parley.comments.threads import do_get_or_create_thread
    from parley.sites.services import get_site_by_slug

    ids = []
    with db.write() as s:
        site_row = get_site_by_slug(s, site)
        thread = do_get_or_create_thread(s, site_row, thread_key, clock.now())
        account = Account(
            display_name=author or unique("Importiert "),
            name_skeleton=None,
            kind=AccountKind.IMPORTED.value,
            created_at=clock.now(),
        )
        s.add(account)
        s.flush()
        parent = s.get(Comment, parent_id) if parent_id else None
        for i in range(n):
            comment = do_insert_comment(
                s,
                site=site_row,
                thread=thread,
                parent=parent,
                author=account,
                body=rendering.render(text.format(i=i)),
                status=status,
                now=clock.now(),
                ip_hash=None,
            )
            ids.append(comment.id)
    return ids


def set_votes(db: Database, comment_id: int, up: int, down: int) -> None:
    """Give a comment vote counters as if ``up`` and ``down`` readers had voted (sort tests)."""
    from parley.comments.models import Comment
    from parley.comments.scoring import wilson_lower_bound
    from parley.comments.threads import bump_version

    with db.write() as s:
        c = s.get(Comment, comment_id)
        assert c is not None
        c.up, c.down, c.score, c.wilson = up, down, up - down, wilson_lower_bound(up, down)
        bump_version(s, c.thread_id)  # as a real vote does: cached pages must see it


def guest_session(client: TestClient, thread: str = "voters") -> str:
    """A cheap reader with a session token (a guest's first post), e.g. to vote."""
    r = post(client, thread, unique("Ich lese mit, Nummer "))
    assert r.status_code == 201, r.text
    token: str = r.json()["session"]["token"]
    return token


def thread_row(site_id: int, key: str, now: datetime, **extra: Any) -> dict[str, Any]:
    """Every column of a ``threads`` row but its id, for Core statements (``extra`` replaces some)."""
    row = {
        "site_id": site_id,
        "key": key,
        "title": "Titel",
        "url": "",
        "status": "open",
        "closes_at": now + timedelta(days=3),
        "settings": {},
        "comment_count": 0,
        "version": 0,
        "created_at": now,
        "last_comment_at": None,
    }
    return {**row, **extra}
