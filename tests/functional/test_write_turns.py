"""Write turns: past ``write_turns`` the readers' write requests of a worker wait in the queue of
its writers' pool and are let in as turns free up; the event loop stays free for readers, and
nothing the waiting requests sent is lost.

The running requests are held inside their turn by the registry's ``cpu_turns`` (which every POST
takes before its write unit), so the test sees the queue as a stream of POSTs on a slow database
would make it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.clock import FrozenClock
from parley.comments.models import Comment
from parley.config import Settings
from parley.db.database import Database
from parley.web.turns import WriteTurns, writer_threads
from support.apps import checking_client, make_test_app
from support.waiting import wait_for

N = 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"write_turns": 1})


def post_all(client: TestClient, thread: str) -> tuple[list[Any], list[threading.Thread]]:
    results: list[Any] = [None] * N

    def send(i: int) -> None:
        results[i] = client.post(
            f"/api/v1/threads/{thread}/comments",
            json={"body": f"Beitrag Nummer {i} zur Sache", "author_name": f"Leserin {i}"},
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    return results, threads


@contextmanager
def posts_held(app: FastAPI, client: TestClient, thread: str) -> Iterator[WriteTurns]:
    """N POSTs sent at once; while the block runs, the one let in is held inside its turn (it stops
    at ``cpu_turns``) and the others wait. Afterwards every one of them has been stored (201)."""
    turns: WriteTurns = app.state.registry.write_turns
    cpu_turns = app.state.registry.cpu_turns
    cpu_turns.acquire()
    threads: list[threading.Thread] = []
    try:
        results, threads = post_all(client, thread)
        wait_for(lambda: (turns.running, turns.waiting) == (1, N - 1), "one POST in, the others waiting")
        yield turns
    finally:
        cpu_turns.release()
        for t in threads:
            t.join(30)
    assert [r.status_code for r in results] == [201] * N, [r.text for r in results]
    assert (turns.running, turns.waiting) == (0, 0)


def test_past_the_limit_posts_wait_readers_are_answered_and_all_are_stored(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    turns: WriteTurns = app.state.registry.write_turns
    assert turns.limit == 1
    assert (
        client.post(
            "/api/v1/threads/warteschlange/comments", json={"body": "Der erste", "author_name": "Erste"}
        ).status_code
        == 201
    )
    client.cookies.clear()
    with posts_held(app, client, "warteschlange"):
        time.sleep(0.2)
        assert (turns.running, turns.waiting) == (1, N - 1)  # nobody slipped past the limit meanwhile
        # the waiting POSTs wait in the writers' pool, not on the event loop: a reader is answered now
        read = client.get("/api/v1/threads/warteschlange/comments")
        assert read.status_code == 200
        assert [c["author"]["name"] for c in read.json()["comments"]] == ["Erste"]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == N + 1


def test_waiting_writers_leave_the_other_views_their_threads(app: FastAPI, client: TestClient) -> None:
    """Writers waiting for a turn hold threads of their own, not of the pool every other plain view
    (health, metrics, logins, the workspace) runs on: with that pool no bigger than the queue of
    writers, ``/healthz`` and ``/readyz`` are still answered while the writers wait."""
    default_pool = client.portal.call(anyio.to_thread.current_default_thread_limiter)
    default_pool.total_tokens = N  # no more threads than the POSTs about to be held
    with posts_held(app, client, "eigene-faeden") as turns:
        answers: dict[str, int] = {}

        def probe() -> None:
            for path in ("/healthz", "/readyz"):
                answers[path] = client.get(path).status_code

        prober = threading.Thread(target=probe)
        prober.start()
        prober.join(10)
        assert answers == {"/healthz": 200, "/readyz": 200}, "the plain views waited for the writers"
        assert (turns.running, turns.waiting) == (1, N - 1)


def test_writers_past_the_limit_wait_without_a_thread_of_their_own(app: FastAPI, client: TestClient) -> None:
    """With a limit, the write views run on a pool of that many threads: the writers past it wait
    in the pool's queue (counted as waiting), holding no thread, and all are stored in the end."""
    with posts_held(app, client, "ohne-faden") as turns:
        time.sleep(0.1)
        assert (turns.running, turns.waiting) == (1, N - 1)
        writers = [t for t in threading.enumerate() if t.name.startswith("parley-writer")]
        assert len(writers) == turns.limit == 1


@pytest.mark.parametrize(
    ("limit", "threads", "let_in"),
    [(0, None, N), (N, None, N), (0, 2, 2)],
    ids=["no-limit", "at-the-limit", "no-limit-two-threads"],
)
def test_at_or_without_a_limit_every_post_is_let_in_as_threads_allow(
    settings: Settings, clock: FrozenClock, limit: int, threads: int | None, let_in: int
) -> None:
    """At or without a limit every POST is let in at once; without a limit, past the writers'
    threads (``threads``) further writers wait on the event loop for one: ``waiting`` (the
    ``parley_write_turns`` gauge's) counts them. All are stored in the end."""
    application = make_test_app(settings.model_copy(update={"write_turns": limit}), clock)
    try:
        turns: WriteTurns = application.state.registry.write_turns
        assert turns.limit == limit
        cpu_turns = application.state.registry.cpu_turns
        with checking_client(application) as client:
            if threads is not None:
                client.portal.call(writer_threads).total_tokens = threads
            cpu_turns.acquire()
            try:
                results, posting = post_all(client, f"grenze-{limit}-{threads}")
                wait_for(lambda: (turns.running, turns.waiting) == (let_in, N - let_in), "POSTs let in")
            finally:
                cpu_turns.release()
            for t in posting:
                t.join(30)
        assert [r.status_code for r in results] == [201] * N
    finally:
        application.state.registry.close()


def test_the_readers_writes_take_turns_and_nothing_else_does(app: FastAPI) -> None:
    gated, writes = set(), 0
    for rc in iter_route_contexts(app.routes):
        methods = set(getattr(rc, "methods", None) or ())
        writes += bool(methods & {"POST", "PUT", "PATCH", "DELETE"})
        if getattr(getattr(rc, "endpoint", None), "takes_write_turn", False):
            gated |= {(method, rc.path) for method in methods}
    assert writes > 20, "the enumeration of routes is broken"  # accounts, workspace, admin … are not gated
    assert gated == {
        ("POST", "/api/v1/threads/{thread_key:path}/comments"),
        ("PATCH", "/api/v1/comments/{comment_id}"),
        ("DELETE", "/api/v1/comments/{comment_id}"),
        ("PUT", "/api/v1/comments/{comment_id}/vote"),
        ("POST", "/api/v1/comments/{comment_id}/reports"),
    }
