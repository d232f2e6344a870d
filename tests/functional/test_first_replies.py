"""The replies embedded in a thread page (``replies=N``): the first N visible comments of each
top-level comment's subtree, in tree order, whatever the size of the other subtrees on the page —
and, on SQLite, read at a cost that does not grow with the biggest subtree (issue 7)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from parley.clock import FrozenClock
from parley.comments import queries
from parley.comments.models import Comment
from parley.comments.services import do_delete_comment
from parley.db.database import Database
from support.factories import make_comments

URL = "/api/v1/threads/{}/comments"


def page(client: TestClient, thread: str, **params: Any) -> dict[int, dict[str, Any]]:
    r = client.get(URL.format(thread), params={"sort": "oldest", **params})
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["comments"]}


def subtree(client: TestClient, root: int) -> list[int]:
    """Every visible descendant in tree order, through the replies endpoint (its own query)."""
    out: list[int] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"/api/v1/comments/{root}/replies", params=params).json()
        out += [c["id"] for c in r["comments"]]
        cursor = r["next_cursor"]
        if cursor is None:
            return out


@pytest.fixture
def tree(db: Database, clock: FrozenClock) -> dict[str, Any]:
    """Four top-level comments: ``a`` with nested, held and removed replies, ``b`` without replies,
    ``c`` with one, ``d`` with 40 (more than any page embeds)."""
    a, b, c, d = make_comments(db, clock, "embedded", 4)
    a1, a2, a3 = make_comments(db, clock, "embedded", 3, parent_id=a, text="Antwort {i}")
    [a1x] = make_comments(db, clock, "embedded", 1, parent_id=a1, text="Antwort auf a1")
    make_comments(db, clock, "embedded", 2, parent_id=a, status="held")
    [a2x] = make_comments(db, clock, "embedded", 1, parent_id=a2, text="bleibt unter dem Grabstein")
    [c1] = make_comments(db, clock, "embedded", 1, parent_id=c)
    many = make_comments(db, clock, "embedded", 40, parent_id=d)
    with db.write() as s:
        for cid in (a2, a3):  # a2 keeps a visible reply (tombstone), a3 has none (gone)
            comment = s.get(Comment, cid)
            assert comment is not None
            do_delete_comment(s, comment, clock.now())
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "a1": a1,
        "a1x": a1x,
        "a2": a2,
        "a2x": a2x,
        "c1": c1,
        "many": many,
    }


def test_the_first_visible_replies_in_tree_order(client: TestClient, tree: dict[str, Any]) -> None:
    top = page(client, "embedded", replies=3)
    shown = [r["id"] for r in top[tree["a"]]["replies"]]
    # depth first; the held replies and the removed reply without replies are not there, the
    # removed one with a visible reply is, as an empty tombstone
    assert shown == [tree["a1"], tree["a1x"], tree["a2"]]
    tomb = top[tree["a"]]["replies"][2]
    assert tomb["deleted"] is True
    assert tomb["html"] == ""
    assert top[tree["b"]]["replies"] == []
    assert [r["id"] for r in top[tree["c"]]["replies"]] == [tree["c1"]]
    assert [r["id"] for r in top[tree["d"]]["replies"]] == tree["many"][:3]
    assert top[tree["d"]]["replies_cursor"]


@pytest.mark.parametrize("n", [1, 2, 4, 5, 50])
def test_every_page_size_matches_the_subtree(client: TestClient, tree: dict[str, Any], n: int) -> None:
    top = page(client, "embedded", replies=n)
    for root in (tree["a"], tree["b"], tree["c"], tree["d"]):
        assert [r["id"] for r in top[root]["replies"]] == subtree(client, root)[:n]


@pytest.mark.parametrize("limit", [1, 3, 200])
def test_any_number_of_top_level_comments(client: TestClient, tree: dict[str, Any], limit: int) -> None:
    top = page(client, "embedded", replies=2, limit=limit)
    assert len(top) == min(limit, 4)
    for root, item in top.items():
        assert [r["id"] for r in item["replies"]] == subtree(client, root)[:2]


def test_cost_does_not_grow_with_the_biggest_subtree(db: Database, clock: FrozenClock, backend: str) -> None:
    """SQLite's virtual machine steps for the embedded replies of a page: the same whether a
    comment on it has 10 replies or 600 (the window over every reply it replaced: 50 times more)."""
    if backend != "sqlite":
        pytest.skip("counts SQLite's virtual machine steps")
    small_root, big_root = make_comments(db, clock, "growth", 2)
    make_comments(db, clock, "growth", 10, parent_id=small_root)
    make_comments(db, clock, "growth", 600, parent_id=big_root)

    def steps(root: int) -> int:
        with db.read() as session:
            raw = session.connection().connection.dbapi_connection
            assert raw is not None
            count = [0]

            def tick() -> int:
                count[0] += 1
                return 0

            raw.set_progress_handler(tick, 10)  # type: ignore[attr-defined]
            try:
                rows = queries.first_replies(session, [root], 3)
            finally:
                raw.set_progress_handler(None, 10)  # type: ignore[attr-defined]
            assert len(rows) == 3
            return count[0]

    small, big = steps(small_root), steps(big_root)
    assert big <= 2 * small + 5, (small, big)
