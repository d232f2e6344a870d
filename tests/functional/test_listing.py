"""Reading a thread: sorts (best = Wilson lower bound), limits, keyset cursors, embedded replies,
the replies endpoint, ``view=flat``, held and deleted comments, and site scoping."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.clock import FrozenClock
from parley.db.database import Database
from support.factories import bearer, configure_site, make_comments, make_site, post, register, set_votes

URL = "/api/v1/threads/{}/comments"


def listing(client: TestClient, thread: str, **params: Any) -> dict[str, Any]:
    r = client.get(URL.format(thread), params=params)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [c["id"] for c in items]


def walk(client: TestClient, thread: str, **params: Any) -> list[int]:
    """Every top-level id, following next_cursor to the end."""
    seen: list[int] = []
    cursor = None
    for _ in range(1000):
        page = listing(client, thread, **params, **({"cursor": cursor} if cursor else {}))
        seen += ids(page["comments"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def wilson(up: int, down: int) -> float:
    """An independent statement of the Wilson score lower bound at 95 % (z = 1.96)."""
    n = up + down
    if n == 0:
        return 0.0
    z = 1.959963984540054
    p = up / n
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)


@pytest.fixture
def voted(db: Database, clock: FrozenClock) -> dict[str, int]:
    """Five top-level comments a second apart, with votes: a=1/0 b=10/1 c=0/0 d=5/5 e=0/3."""
    votes = {"a": (1, 0), "b": (10, 1), "c": (0, 0), "d": (5, 5), "e": (0, 3)}
    out = {}
    for name, (up, down) in votes.items():
        [cid] = make_comments(db, clock, "sorted", 1, text=f"Kommentar {name}")
        set_votes(db, cid, up, down)
        out[name] = cid
        clock.advance(1)
    return out


def test_best_is_the_wilson_lower_bound(client: TestClient, voted: dict[str, int]) -> None:
    votes = {"a": (1, 0), "b": (10, 1), "c": (0, 0), "d": (5, 5), "e": (0, 3)}
    expected = sorted(votes, key=lambda k: (wilson(*votes[k]), voted[k]), reverse=True)
    assert expected == ["b", "d", "a", "e", "c"]  # 10:1 beats 5:5 beats 1:0; ties: newest id first
    got = ids(listing(client, "sorted")["comments"])  # best is the default
    assert got == [voted[k] for k in expected]
    assert ids(listing(client, "sorted", sort="best")["comments"]) == got


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("top", ["b", "a", "d", "c", "e"]),  # score 9, 1, 0, 0 (newer first), -3
        ("newest", ["e", "d", "c", "b", "a"]),
        ("oldest", ["a", "b", "c", "d", "e"]),
    ],
)
def test_other_sorts(client: TestClient, voted: dict[str, int], sort: str, order: list[str]) -> None:
    page = listing(client, "sorted", sort=sort)
    assert ids(page["comments"]) == [voted[k] for k in order]
    by_id = {c["id"]: c for c in page["comments"]}
    assert (by_id[voted["b"]]["up"], by_id[voted["b"]]["down"]) == (10, 1)


@pytest.mark.parametrize("sort", ["best", "top", "newest", "oldest"])
def test_cursor_pages_cover_the_thread_once(client: TestClient, voted: dict[str, int], sort: str) -> None:
    one_page = ids(listing(client, "sorted", sort=sort)["comments"])
    for limit in (1, 2, 4):
        assert walk(client, "sorted", sort=sort, limit=limit) == one_page


def test_limit_default_maximum_and_last_page(client: TestClient, db: Database, clock: FrozenClock) -> None:
    make_comments(db, clock, "big", 205)
    page = listing(client, "big")
    assert len(page["comments"]) == 50
    assert page["next_cursor"]
    page = listing(client, "big", limit=200)
    assert len(page["comments"]) == 200
    assert page["next_cursor"]
    last = listing(client, "big", limit=200, cursor=page["next_cursor"])
    assert len(last["comments"]) == 5
    assert last["next_cursor"] is None
    exact = listing(client, "big", limit=1, sort="oldest")
    assert len(exact["comments"]) == 1
    assert page["thread"]["comment_count"] == 205


@pytest.mark.parametrize("sort", ["best", "top", "newest", "oldest"])
def test_no_duplicates_or_gaps_while_comments_arrive(
    client: TestClient, db: Database, clock: FrozenClock, sort: str
) -> None:
    """Keyset paging: comments posted between page requests never shift the pages (as OFFSET would)."""
    before = set()
    for _ in range(12):
        before.update(make_comments(db, clock, "busy", 1))
        clock.advance(1)
    seen: list[int] = []
    arrived: set[int] = set()
    cursor = None
    while True:
        page = listing(client, "busy", sort=sort, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += ids(page["comments"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        clock.advance(1)
        arrived.update(make_comments(db, clock, "busy", 3))
    assert len(seen) == len(set(seen)), "a comment came twice"
    assert before <= set(seen), "a comment that existed all along was skipped"
    if sort == "oldest":
        assert arrived <= set(seen)  # new comments sort last, so the walk reaches them too


def test_replies_are_embedded_in_tree_order(client: TestClient, db: Database, clock: FrozenClock) -> None:
    [root] = make_comments(db, clock, "tree", 1)
    r1, r2 = make_comments(db, clock, "tree", 2, parent_id=root, text="Antwort {i}")
    [r1a] = make_comments(db, clock, "tree", 1, parent_id=r1, text="Antwort auf Antwort")
    [other] = make_comments(db, clock, "tree", 1)
    page = listing(client, "tree", sort="oldest", replies=3)
    top = {c["id"]: c for c in page["comments"]}
    assert set(top) == {root, other}
    shown = top[root]["replies"]
    assert ids(shown) == [r1, r1a, r2]  # depth first: a reply's replies come before its next sibling
    assert [(c["parent_id"], c["depth"]) for c in shown] == [(root, 1), (r1, 2), (root, 1)]
    assert top[root]["reply_count"] == 2
    assert top[root]["descendant_count"] == 3
    assert "replies_cursor" not in top[root] or top[root]["replies_cursor"] is None
    assert top[other]["replies"] == []
    assert page["thread"]["comment_count"] == 5
    none = listing(client, "tree", sort="oldest", replies=0)
    assert all(c["replies"] == [] for c in none["comments"])
    cursor = next(c["replies_cursor"] for c in none["comments"] if c["id"] == root)
    rest = client.get(f"/api/v1/comments/{root}/replies", params={"cursor": cursor}).json()
    assert ids(rest["comments"]) == [r1, r1a, r2]


def test_replies_endpoint_pages_a_subtree(client: TestClient, db: Database, clock: FrozenClock) -> None:
    [root] = make_comments(db, clock, "deep", 1)
    direct = make_comments(db, clock, "deep", 7, parent_id=root)
    nested = make_comments(db, clock, "deep", 3, parent_id=direct[2])
    [sibling] = make_comments(db, clock, "deep", 1)
    make_comments(db, clock, "deep", 2, parent_id=sibling)  # another subtree: must not leak in
    expected = direct[:3] + nested + direct[3:]
    got: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/comments/{root}/replies", params=params).json()
        assert len(page["comments"]) <= 4
        got += ids(page["comments"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert got == expected
    # the subtree of a reply is paged the same way
    sub = client.get(f"/api/v1/comments/{direct[2]}/replies").json()
    assert ids(sub["comments"]) == nested
    assert sub["next_cursor"] is None
    leaf = client.get(f"/api/v1/comments/{nested[0]}/replies").json()
    assert leaf == {"comments": [], "next_cursor": None}


def test_flat_view_is_every_published_comment_oldest_first(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    tops = make_comments(db, clock, "flat", 150)
    clock.advance(1)
    replies = make_comments(db, clock, "flat", 60, parent_id=tops[0])
    clock.advance(1)
    make_comments(db, clock, "flat", 3, status="held")
    page = listing(client, "flat", view="flat", limit=1, sort="newest")  # limit and sort do not apply
    got = page["comments"]
    assert ids(got) == tops + replies
    assert page["next_cursor"] is None
    assert {c["parent_id"] for c in got[150:]} == {tops[0]}
    assert all(c["parent_id"] is None for c in got[:150])
    assert all(c["status"] == "published" and c["replies"] == [] for c in got)
    assert page["thread"]["comment_count"] == 210


def test_a_big_whole_thread_is_built_off_the_event_loop(
    client: TestClient, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``FLAT_BUILD_IN_POOL`` comments the whole thread is read and encoded in the thread pool
    (a 10,000-comment build would stall the worker's loop for ~0.5 s), with the same answer."""
    from parley.comments import queries, threads, views

    where: dict[str, set[int]] = {"loop": set(), "build": set()}
    real_find, real_whole = threads.find_thread_view, queries.whole_thread

    def find(*a: Any, **k: Any) -> Any:
        where["loop"].add(threading.get_ident())  # the async view runs this on the loop
        return real_find(*a, **k)

    def whole(*a: Any, **k: Any) -> Any:
        where["build"].add(threading.get_ident())
        return real_whole(*a, **k)

    monkeypatch.setattr(threads, "find_thread_view", find)
    monkeypatch.setattr(queries, "whole_thread", whole)
    tops = make_comments(db, clock, "big-flat", 6)
    replies = make_comments(db, clock, "big-flat", 2, parent_id=tops[0])
    small = listing(client, "big-flat", view="flat")
    assert where["build"] <= where["loop"]  # 8 comments: built on the loop
    monkeypatch.setattr(views, "FLAT_BUILD_IN_POOL", 5)
    clock.advance(1)
    [newest] = make_comments(db, clock, "big-flat", 1)  # a new version: the cache has no answer
    where["build"].clear()
    big = listing(client, "big-flat", view="flat")
    assert where["build"], "the whole thread was not read"
    assert not where["build"] & where["loop"], "the big thread was built on the event loop"
    assert ids(big["comments"]) == tops + replies + [newest]
    assert big["comments"][:8] == small["comments"]
    assert big["thread"]["comment_count"] == 9
    again = client.get(URL.format("big-flat"), params={"view": "flat"})  # stored like any answer
    assert again.json() == big
    assert (
        client.get(
            URL.format("big-flat"), params={"view": "flat"}, headers={"If-None-Match": again.headers["etag"]}
        ).status_code
        == 304
    )
    # a reader with an account: the same build, and their own comment in it or beside it
    me = register(client)
    made = post(client, "big-flat", "Meine eigene Meinung zu diesem Artikel.", token=me["token"])
    mine_id = made.json()["comment"]["id"]
    where["build"].clear()
    mine = client.get(URL.format("big-flat"), params={"view": "flat"}, headers=bearer(me["token"])).json()
    assert where["build"]
    assert not where["build"] & where["loop"]
    assert ids(mine["comments"])[:9] == tops + replies + [newest]
    assert mine_id in ids(mine["comments"]) + ids(mine["own_pending"])  # published, or held and theirs


@pytest.mark.parametrize("store", ["memory", "none"])
def test_readers_of_a_big_thread_being_built_wait_for_that_build(
    app: FastAPI,
    client: TestClient,
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
) -> None:
    """Two anonymous readers of the same uncached big thread: the second waits for the first's build
    in the pool (one read of the thread) and gets the same answer — handed over, so also when the
    cache does not keep it (``none``: a cache that stores nothing, as for an answer too large)."""
    from concurrent.futures import ThreadPoolExecutor

    from parley.cache import NullCache
    from parley.comments import queries, threads, views

    monkeypatch.setattr(views, "FLAT_BUILD_IN_POOL", 3)
    if store == "none":
        monkeypatch.setattr(app.state.registry, "cache", NullCache())
    make_comments(db, clock, "herd", 6)
    arrived = threading.Event()
    views_of_thread: list[int] = []
    builds: list[int] = []
    real_find, real_whole = threads.find_thread_view, queries.whole_thread

    def find(*a: Any, **k: Any) -> Any:
        views_of_thread.append(1)
        if len(views_of_thread) == 2:
            arrived.set()  # the second reader is in the view
        return real_find(*a, **k)

    def whole(*a: Any, **k: Any) -> Any:
        builds.append(1)
        arrived.wait(10)  # the first build is still running when the second reader comes
        return real_whole(*a, **k)

    monkeypatch.setattr(threads, "find_thread_view", find)
    monkeypatch.setattr(queries, "whole_thread", whole)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.get, URL.format("herd"), params={"view": "flat"})
        second = pool.submit(client.get, URL.format("herd"), params={"view": "flat"})
        answers = [first.result(timeout=30), second.result(timeout=30)]
    assert arrived.is_set()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert len(answers[0].json()["comments"]) == 6
    assert len(builds) == 1, "each reader built the thread"
    assert not app.state.registry.builds  # nothing left behind


def test_held_and_deleted_comments(client: TestClient, db: Database, clock: FrozenClock) -> None:
    """Held comments are invisible; a removed comment with visible replies stays as an empty tombstone."""
    [kept, removed] = make_comments(db, clock, "gone", 2)
    [reply] = make_comments(db, clock, "gone", 1, parent_id=removed)
    make_comments(db, clock, "gone", 2, status="held")
    [lonely] = make_comments(db, clock, "gone", 1)
    from parley.comments.models import Comment
    from parley.comments.services import do_delete_comment

    with db.write() as s:
        for cid in (removed, lonely):
            c = s.get(Comment, cid)
            assert c is not None
            do_delete_comment(s, c, clock.now())
    page = listing(client, "gone", sort="oldest")
    assert ids(page["comments"]) == [kept, removed]
    tomb = page["comments"][1]
    assert tomb["deleted"] is True
    assert tomb["html"] == ""
    assert tomb["author"] is None
    assert ids(tomb["replies"]) == [reply]
    assert page["thread"]["comment_count"] == 2  # kept and the reply
    flat = listing(client, "gone", view="flat")
    assert ids(flat["comments"]) == [kept, reply]
    assert client.get(f"/api/v1/comments/{removed}").status_code == 404


def test_unknown_threads(client: TestClient, app: FastAPI) -> None:
    page = listing(client, "never-commented")
    assert page["thread"] == {
        "key": "never-commented",
        "title": "",
        "url": "",
        "status": "open",
        "comment_count": 0,
    }
    assert page["comments"] == []
    assert page["next_cursor"] is None
    assert page["site"]["slug"] == "test"
    assert page["site"]["guests_allowed"] is True
    configure_site(app, "test", auto_create_threads=False)
    r = client.get(URL.format("never-commented"))
    assert r.status_code == 404
    assert r.json()["code"] == "thread_not_found"


def test_sites_keep_their_threads_apart(client: TestClient, db: Database, clock: FrozenClock) -> None:
    make_site(db, clock, "zwei", name="Zweite Zeitung")
    [here] = make_comments(db, clock, "same-key", 1)
    [there] = make_comments(db, clock, "same-key", 1, site="zwei")
    assert ids(listing(client, "same-key")["comments"]) == [here]
    assert ids(listing(client, "same-key", site="zwei")["comments"]) == [there]
    header = client.get(URL.format("same-key"), headers={"X-Parley-Site": "zwei"}).json()
    assert ids(header["comments"]) == [there]
    assert client.get(f"/api/v1/comments/{there}").status_code == 404  # not on the default site
    assert client.get(f"/api/v1/comments/{there}", params={"site": "zwei"}).status_code == 200
    counts = client.get("/api/v1/counts", params={"threads": "same-key,none", "site": "zwei"}).json()
    assert counts == {"counts": {"same-key": 1, "none": 0}}


def test_counts_for_article_lists(client: TestClient, db: Database, clock: FrozenClock) -> None:
    make_comments(db, clock, "a", 3)
    make_comments(db, clock, "b", 1)
    make_comments(db, clock, "b", 2, status="held")
    r = client.get("/api/v1/counts", params={"threads": "a,b,c,a,,b"})
    assert r.json() == {"counts": {"a": 3, "b": 1, "c": 0}}
    keys = ",".join(f"k{i}" for i in range(100))
    assert len(client.get("/api/v1/counts", params={"threads": keys}).json()["counts"]) == 100


def test_own_pending_comments_are_shown_to_their_author_only(client: TestClient, app: FastAPI) -> None:
    configure_site(app, "test", moderation={"premoderate_all": True})
    r = post(client, "pending", "Das muss erst geprüft werden.")
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["comment"]["status"] == "held"
    assert data["statement_url"]
    token = data["session"]["token"]
    mine = listing_as(client, "pending", token)
    assert mine["comments"] == []
    assert ids(mine["own_pending"]) == [data["comment"]["id"]]
    assert mine["own_pending"][0]["html"]
    assert mine["own_pending"][0]["mine"] is True
    others = listing(client, "pending")
    assert others["comments"] == []
    assert others["own_pending"] == []
    assert others["thread"]["comment_count"] == 0


def listing_as(client: TestClient, thread: str, token: str, **params: Any) -> dict[str, Any]:
    r = client.get(URL.format(thread), params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data
