"""Injection through parameters: sort, view, filters, search, cursor. Nothing leaks; wildcards are literal.

Every parameter a reader or a moderator controls gets a list of hostile values (SQL fragments,
LIKE wildcards, NUL, path tricks, huge numbers, another site's ids). Pass:

- never a 5xx; a refused value is a 4xx problem document (API) or a 4xx page (workspace);
- a listing that answers 200 shows only what that person may see: the thread's published comments
  (API) or their own site's comments (workspace) — never a held comment to a reader, another
  thread's or another site's text;
- searches treat ``%``, ``_`` and ``\\`` as the characters they are: "100%" finds the name with
  "100%" and not "1000", "a_b" finds "a_b" and not "axb";
- afterwards the tables hold what they held before (nothing was dropped or written).

``tests/functional/test_malformed.py`` covers forged, foreign and truncated cursors one by one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.accounts.models import Account
from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from support.factories import make_account, make_comments, make_site
from support.workspace import moderator

HOSTILE = [
    "' OR '1'='1",
    "1 OR 1=1",
    "best; DROP TABLE comments; --",
    "1) UNION SELECT body_source FROM comments --",
    "%",
    "_",
    "%25",
    "\\",
    "*",
    "../other",
    "-1",
    "99999999999999999999999",
    "0x7fffffff",
    "NaN",
    "null",
    "[]",
    "{}",
    "ä" * 300,
    "\u202e",
    "a\x00b",
]
SECRET_OTHER = "FREMDE-SEITE-GEHEIM"
SECRET_HELD = "ZURUECKGEHALTEN-GEHEIM"
SECRET_THREAD = "ANDERER-ARTIKEL-GEHEIM"


@pytest.fixture
def world(app: FastAPI, clock: FrozenClock) -> dict[str, Any]:
    db = app.state.registry.db
    make_site(db, clock, "other", name="Andere Zeitung")
    published = make_comments(db, clock, "artikel", 6, text="Sichtbar {i}")
    held = make_comments(db, clock, "artikel", 2, text=SECRET_HELD + " {i}", status="held")
    make_comments(db, clock, "anderer", 3, text=SECRET_THREAD + " {i}")
    other = make_comments(db, clock, "artikel", 3, site="other", text=SECRET_OTHER + " {i}")
    other_held = make_comments(
        db, clock, "fremd", 2, site="other", text=SECRET_OTHER + " held {i}", status="held"
    )
    with db.read() as s:
        other_thread = s.scalars(select(Comment.thread_id).where(Comment.id == other[0])).one()
        other_author = s.scalars(select(Comment.author_id).where(Comment.id == other_held[0])).one()
    return {
        "published": published,
        "held": held,
        "other_thread": other_thread,
        "other_author": other_author,
    }


def counts(app: FastAPI) -> tuple[int, int, int]:
    with app.state.registry.db.read() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(select(func.count()).select_from(m)) or 0) for m in (Comment, Thread, Account)
        )


def test_listing_parameters(app: FastAPI, client: TestClient, world: dict[str, Any]) -> None:
    before = counts(app)
    sent = 0
    for param in ("sort", "view", "cursor", "limit", "parent", "lang", "site"):
        for value in HOSTILE:
            sent += 1
            r = client.get("/api/v1/threads/artikel/comments", params={param: value})
            assert r.status_code < 500, (param, value, r.text[:300])
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json", (param, value)
                continue
            text = r.text
            for secret in (SECRET_HELD, SECRET_THREAD, SECRET_OTHER):
                assert secret not in text, (param, value, secret)
    # the key itself
    for value in HOSTILE:
        sent += 1
        r = client.get(f"/api/v1/threads/{quote(value, safe='')}/comments")
        assert r.status_code < 500, (value, r.text[:300])
        for secret in (SECRET_HELD, SECRET_THREAD, SECRET_OTHER):
            assert secret not in r.text
    assert counts(app) == before
    print(f"injection (API listing): {sent} requests")


def test_workspace_filters_never_cross_a_site(
    app: FastAPI, clock: FrozenClock, world: dict[str, Any]
) -> None:
    mod = moderator(app, clock, "test")
    before = counts(app)
    sent = 0
    crossing = ["other", str(world["other_thread"]), str(world["other_author"])]
    values = [*HOSTILE, *crossing]
    for queue in ("held", "published", "reported", "appeals"):
        # every value on the held queue; the other queues share its filter code: a sample
        chosen = values if queue == "held" else [*HOSTILE[:6], *crossing]
        for param in ("site", "story", "reason", "author", "order", "page"):
            for value in chosen:
                sent += 1
                r = mod.get(f"/moderate/queue/{queue}", params={param: value})
                assert r.status_code < 500, (queue, param, value, r.text[:300])
                assert SECRET_OTHER not in r.text, (queue, param, value)
    for value in values:
        sent += 2
        r = mod.get("/moderate/audit", params={"action": value})
        assert r.status_code < 500
        assert SECRET_OTHER not in r.text
        r = mod.get("/moderate/users", params={"q": value})
        assert r.status_code < 500
    assert counts(app) == before
    print(f"injection (workspace filters): {sent} requests")


def test_search_wildcards_are_literal(app: FastAPI, clock: FrozenClock) -> None:
    db = app.state.registry.db
    names = {
        "percent": "Quote 100% Sicher",
        "thousand": "Quote 1000 Sicher",
        "under": "Zora_Bert",
        "x": "ZoraXBert",
        "back": "Yuma\\Zed",
    }
    for name in names.values():
        make_account(db, clock, name=name)
    admin = moderator(app, clock, "test", role="admin")

    def found(q: str) -> set[str]:
        r = admin.get("/moderate/users", params={"q": q})
        assert r.status_code == 200, r.text[:300]
        return {key for key, name in names.items() if name.replace("\\", "&#92;") in r.text or name in r.text}

    assert found("100%") == {"percent"}
    assert found("%") == {"percent"}
    assert found("a_b") == {"under"}
    assert found("_") == {"under"}
    assert found("a\\z") == {"back"}
    assert found("Quote") == {"percent", "thousand"}  # the control: a plain search finds both
