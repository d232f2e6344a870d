"""Concurrency against a real server with two worker processes (so SQLite's cross-process locking
and PostgreSQL's row locks are what keeps order, not a lock inside one Python process):

- 32 concurrent votes by one account on one comment count once, whatever the mix of values;
- 32 accounts voting at once lose no vote;
- concurrent POSTs with one Idempotency-Key make one comment and get identical answers;
- concurrent first comments on a new story make one thread.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from parley.accounts.models import Account
from parley.accounts.services import do_create_session
from parley.clock import SystemClock
from parley.comments.models import Comment, Thread, Vote
from parley.db.database import Database
from support.apps import TEST_MODERATION, module_database, settings_for
from support.factories import make_account, make_comments, make_site
from support.servers import ParleyServer

N = 32


@dataclass
class Live:
    server: ParleyServer
    db: Database


@pytest.fixture(scope="module")
def live(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("concurrency")
    with module_database(backend, request, tmp) as url:
        db = Database(settings_for(url, tmp))
        make_site(db, SystemClock(), "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
        server = ParleyServer(url, tmp, workers=2).start()
        try:
            yield Live(server, db)
        finally:
            server.stop()
            db.dispose()


def session_token(db: Database) -> str:
    account_id = make_account(db, SystemClock(), password=None)
    with db.write() as s:
        account = s.get(Account, account_id)
        assert account is not None
        return do_create_session(s, account, SystemClock().now(), 1).token


def request(live: Live, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=60)
    try:
        conn.request(method, path, json.dumps(body), {"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def all_at_once(calls: list[Callable[[], tuple[int, bytes]]]) -> list[tuple[int, bytes]]:
    """Run the calls on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, bytes] | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def vote_state(db: Database, cid: int) -> tuple[int, int, int, list[int]]:
    with db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        values = list(s.scalars(select(Vote.value).where(Vote.comment_id == cid)))
        return c.up, c.down, c.score, values


def test_32_votes_by_one_account_count_once(live: Live) -> None:
    [cid] = make_comments(live.db, SystemClock(), "votes-" + uuid.uuid4().hex[:6], 1)
    token = session_token(live.db)
    auth = {"Authorization": f"Bearer {token}"}
    results = all_at_once(
        [lambda: request(live, "PUT", f"/api/v1/comments/{cid}/vote", {"value": 1}, auth) for _ in range(N)]
    )
    assert [status for status, _ in results] == [200] * N
    assert {json.loads(body)["up"] for _, body in results} == {1}
    assert vote_state(live.db, cid) == (1, 0, 1, [1])


def test_32_mixed_votes_by_one_account_leave_one_consistent_vote(live: Live) -> None:
    [cid] = make_comments(live.db, SystemClock(), "mixed-" + uuid.uuid4().hex[:6], 1)
    auth = {"Authorization": f"Bearer {session_token(live.db)}"}
    values = [(1, -1, 0, 1)[i % 4] for i in range(N)]
    results = all_at_once(
        [
            (lambda v=v: request(live, "PUT", f"/api/v1/comments/{cid}/vote", {"value": v}, auth))  # type: ignore[misc]
            for v in values
        ]
    )
    assert {status for status, _ in results} == {200}
    up, down, score, rows = vote_state(live.db, cid)
    assert len(rows) <= 1
    stored = rows[0] if rows else 0
    assert (up, down, score) == (int(stored == 1), int(stored == -1), stored)


def test_32_accounts_voting_at_once_lose_no_vote(live: Live) -> None:
    [cid] = make_comments(live.db, SystemClock(), "crowd-" + uuid.uuid4().hex[:6], 1)
    tokens = [session_token(live.db) for _ in range(N)]
    results = all_at_once(
        [
            (
                lambda t=t: request(
                    live,
                    "PUT",
                    f"/api/v1/comments/{cid}/vote",
                    {"value": 1},
                    {"Authorization": f"Bearer {t}"},
                )
            )  # type: ignore[misc]
            for t in tokens
        ]
    )
    assert {status for status, _ in results} == {200}
    assert vote_state(live.db, cid) == (N, 0, N, [1] * N)


def test_concurrent_posts_with_one_idempotency_key(live: Live) -> None:
    thread = "idem-" + uuid.uuid4().hex[:8]
    key = str(uuid.uuid4())
    body = {"body": "Einmal und nur einmal.", "author_name": "Ida Eilig", "email": "ida@example.org"}
    results = all_at_once(
        [
            lambda: request(
                live, "POST", f"/api/v1/threads/{thread}/comments", body, {"Idempotency-Key": key}
            )
            for _ in range(16)
        ]
    )
    assert {status for status, _ in results} == {201}, results[:2]
    assert len({payload for _, payload in results}) == 1, "the answers differ"
    with live.db.read() as s:
        found = s.scalar(select(Thread).where(Thread.key == thread))
        assert found is not None
        n = s.scalar(select(func.count()).select_from(Comment).where(Comment.thread_id == found.id))
    assert n == 1


def test_concurrent_first_comments_make_one_thread(live: Live) -> None:
    thread = "first-" + uuid.uuid4().hex[:8]
    results = all_at_once(
        [
            (
                lambda i=i: request(
                    live,
                    "POST",
                    f"/api/v1/threads/{thread}/comments",
                    {
                        "body": f"Ich war zuerst da, sagt Nummer {i}.",
                        "author_name": f"Erster {i}",
                        "title": "Neue Geschichte",
                    },
                    {"X-Forwarded-For": f"10.0.0.{i}"},
                )
            )  # type: ignore[misc]
            for i in range(16)
        ]
    )
    assert [s for s, _ in results].count(201) == 16, [r for r in results if r[0] != 201][:2]
    with live.db.read() as s:
        threads = list(s.scalars(select(Thread).where(Thread.key == thread)))
        assert len(threads) == 1
        assert threads[0].comment_count == 16
        assert threads[0].title == "Neue Geschichte"


def test_a_chunked_oversized_body_is_refused_by_the_real_server(live: Live) -> None:
    """Through uvicorn (not the test client): chunked transfer without Content-Length, over the limit."""
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=60)
    try:
        conn.putrequest("POST", "/api/v1/threads/chunked/comments")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"a" * 65536
        try:
            for _ in range(64):  # 4 MB, far over the 256 KB limit
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before we are done sending
        response = conn.getresponse()
        assert response.status == 413
        assert response.getheader("content-type") == "application/problem+json"
        assert json.loads(response.read())["code"] == "payload_too_large"
    finally:
        conn.close()
