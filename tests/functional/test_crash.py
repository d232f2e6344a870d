"""Crash consistency: nothing acknowledged is lost, nothing is half-written.

A real ``parley serve`` process takes a stream of concurrent POSTs (top-level comments and replies
to acknowledged ones) from 8 client threads that record every id answered with 2xx. The whole
process group is killed with SIGKILL mid-stream, the server is started again on the same database,
and the database must hold every acknowledged comment, each exactly once, with counters equal to
the rows they count, materialized paths that match the parents, a moderation decision per comment
and (SQLite) a clean ``PRAGMA integrity_check``. One cycle runs in the normal suite; twenty run in
``make soak``.

Client addresses come through ``X-Forwarded-For`` from a trusted loopback proxy, so per-address
limits see many readers, as they would behind a real proxy.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from parley.clock import SystemClock
from parley.comments import paths
from parley.comments.models import Comment, Thread
from parley.db.database import Database
from parley.moderation.models import ModerationDecision
from support.apps import TEST_MODERATION, module_database, settings_for
from support.factories import make_site
from support.servers import ParleyServer

THREADS = ("crash-a", "crash-b", "crash-c")
CLIENTS = 8


@dataclass
class Stream:
    acked: dict[int, str] = field(default_factory=dict)  # comment id -> body text
    sent: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(server: ParleyServer, stream: Stream, stop: threading.Event, n: int, cycle: int) -> None:
    rng = random.Random(n * 1000 + cycle)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        _stream_posts(conn, rng, stream, stop, n, cycle)
    finally:
        conn.close()  # also when the server died mid-request: no socket is left to the collector


def _stream_posts(
    conn: http.client.HTTPConnection,
    rng: random.Random,
    stream: Stream,
    stop: threading.Event,
    n: int,
    cycle: int,
) -> None:
    seq = 0
    while not stop.is_set():
        seq += 1
        thread = rng.choice(THREADS)
        with stream.lock:
            candidates = [cid for cid, body in stream.acked.items() if body.startswith(thread)]
        parent = rng.choice(candidates) if candidates and rng.random() < 0.4 else None
        text = f"{thread} Zyklus {cycle} Leser {n} Beitrag {seq}: {rng.getrandbits(64):x}"
        payload = {"body": text, "author_name": f"Leser {cycle}-{n}-{seq}", "parent_id": parent}
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"10.{cycle % 250}.{n}.{seq % 250}"}
        try:
            conn.request("POST", f"/api/v1/threads/{thread}/comments", json.dumps(payload), headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            return  # the server is gone: whatever was in flight is unacknowledged
        with stream.lock:
            stream.sent += 1
            if 200 <= response.status < 300:
                stream.acked[json.loads(data)["comment"]["id"]] = text
            elif response.status >= 500:
                stream.failed += 1


def crash_cycle(server: ParleyServer, cycle: int, stream: Stream, min_acked: int = 30) -> None:
    stop = threading.Event()
    workers = [
        threading.Thread(target=_client, args=(server, stream, stop, n, cycle), daemon=True)
        for n in range(CLIENTS)
    ]
    before = len(stream.acked)
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while len(stream.acked) - before < min_acked and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.Random(cycle).random() * 0.3)  # somewhere in the middle of the stream
    server.kill()
    stop.set()
    for w in workers:
        w.join(30)
    assert len(stream.acked) - before >= min_acked, f"only {len(stream.acked) - before} acknowledged"


def check_consistency(db: Database, stream: Stream) -> None:
    with db.read() as s:
        rows = {c.id: c for c in s.scalars(select(Comment))}
        missing = set(stream.acked) - set(rows)
        assert not missing, f"{len(missing)} acknowledged comments lost: {sorted(missing)[:10]}"
        for cid, body in stream.acked.items():
            assert rows[cid].body_source == body
        bodies = [c.body_source for c in rows.values()]
        assert len(bodies) == len(set(bodies)), "a comment was stored twice"
        published = {cid: c for cid, c in rows.items() if c.status == "published"}
        for c in rows.values():
            parent = rows.get(c.parent_id) if c.parent_id else None
            if c.parent_id is not None:
                assert parent is not None, f"orphan {c.id}"
            expected = paths.child_path(parent.path if parent else "", c.id)
            assert c.path == expected, f"half-written path of {c.id}: {c.path!r}"
            assert c.root_id == (parent.root_id if parent else c.id)
            assert c.depth == (parent.depth + 1 if parent else 0)
            children = [x for x in published.values() if x.parent_id == c.id]
            subtree = [x for x in published.values() if x.path.startswith(c.path) and x.id != c.id]
            assert c.reply_count == len(children), f"reply_count of {c.id}"
            assert c.descendant_count == len(subtree), f"descendant_count of {c.id}"
        for thread in s.scalars(select(Thread)):
            n = sum(1 for c in published.values() if c.thread_id == thread.id)
            assert thread.comment_count == n, f"comment_count of {thread.key}: {thread.comment_count} != {n}"
        decided = set(s.scalars(select(ModerationDecision.comment_id)))
        assert set(rows) <= decided, "a comment without its moderation decision"
        assert int(s.scalar(select(func.count()).select_from(Comment)) or 0) == len(rows)


def sqlite_integrity(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    finally:
        engine.dispose()


@pytest.fixture
def crash_setup(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with module_database(backend, request, tmp_path) as url:
        db = Database(settings_for(url, tmp_path))
        make_site(db, SystemClock(), "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
        db.dispose()
        yield url, tmp_path


def run_cycles(url: str, tmp: Path, cycles: int) -> Stream:
    stream = Stream()
    server = ParleyServer(url, tmp, env={"PARLEY_TRUSTED_PROXIES": '["127.0.0.1/32"]'})
    db = Database(settings_for(url, tmp))
    try:
        server.start()
        for cycle in range(cycles):
            crash_cycle(server, cycle, stream)
            if url.startswith("sqlite"):
                sqlite_integrity(url)  # the file as the crash left it (WAL not yet recovered)
            server.start()  # recovery happens here; the restarted server is the next cycle's
            listing = _get(server, f"/api/v1/threads/{THREADS[0]}/comments?view=flat")
            assert listing["thread"]["comment_count"] == len(listing["comments"])
            check_consistency(db, stream)  # nobody writes now: the clients are gone
    finally:
        server.stop()
        db.dispose()
    assert stream.failed == 0, f"{stream.failed} requests got a 5xx"
    return stream


def _get(server: ParleyServer, path: str) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        data: dict[str, object] = json.loads(response.read())
        return data
    finally:
        conn.close()


def test_kill_9_mid_stream_loses_nothing_acknowledged(crash_setup: tuple[str, Path]) -> None:
    url, tmp = crash_setup
    stream = run_cycles(url, tmp, cycles=1)
    assert len(stream.acked) >= 30


@pytest.mark.slow
def test_twenty_crash_cycles(crash_setup: tuple[str, Path]) -> None:
    url, tmp = crash_setup
    stream = run_cycles(url, tmp, cycles=20)
    assert len(stream.acked) >= 20 * 30
