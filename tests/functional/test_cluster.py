"""Two ``parley serve`` instances on one PostgreSQL and one Redis, as ``scripts/cluster.sh`` runs them
— and, without Redis, on one SQLite database and the machine's shared file (:mod:`parley.db.machine`).

Instance A has one worker, instance B two (``--workers 2``), so three processes share nothing but
the database and Redis (or the machine file). What one instance is told, the other must know:

- a comment posted through A is read through B (also when B had the thread page already);
- an SSE reader on B hears the ``comment.published`` event of a post made through A, and a reader
  reconnecting to A with ``Last-Event-ID`` gets what it missed;
- a request rate limit used up through A answers 429 on B, and so does the moderation flood limit;
- 64 concurrent votes by one account spread over both instances leave one vote row, and 16 voters
  voting 4 times each leave counts equal to 16.

And ``scripts/cluster.sh`` itself: start (PostgreSQL, Redis, two instances, nginx on free ports),
posts through nginx reach both instances and a live reader behind nginx, stop leaves no process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from parley.accounts.models import Account
from parley.accounts.services import do_create_session
from parley.clock import SystemClock
from parley.comments.models import Comment, Vote
from parley.db.database import Database
from support.apps import TEST_MODERATION, module_database, settings_for
from support.factories import make_account, make_comments, make_site
from support.servers import ParleyServer

SHARED_BY = [
    pytest.param("redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    pytest.param("machine", id="sqlite-machine-file"),  # no Redis: the processes of one machine
]

LOGIN_LIMIT = 3
# a site whose moderation floods at its defaults (3 comments in 20 s per author), classifiers off
FLOOD_MODERATION = {"classifier": {"enabled": False}, "copies": {"enabled": False}}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers={**hdrs, **(headers or {})})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on their own threads, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # re-raised on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


@dataclass
class Cluster:
    db: Database
    a: ParleyServer
    b: ParleyServer
    redis_url: str | None

    def port(self, i: int) -> int:
        return (self.a, self.b)[i % 2].port

    def token(self) -> dict[str, str]:
        account_id = make_account(self.db, SystemClock(), password=None)
        with self.db.write() as s:
            account = s.get(Account, account_id)
            assert account is not None
            return {"Authorization": f"Bearer {do_create_session(s, account, SystemClock().now(), 1).token}"}


@pytest.fixture(scope="module", params=SHARED_BY)
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("cluster")
    backend = "postgresql" if request.param == "redis" else "sqlite"
    with module_database(backend, request, tmp) as url:
        db = Database(settings_for(url, tmp))
        make_site(db, SystemClock(), "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
        make_site(db, SystemClock(), "flood", name="Flutblatt", settings={"moderation": FLOOD_MODERATION})
        env = {
            "PARLEY_RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/5m",
            "PARLEY_LIVE_HEARTBEAT_SECONDS": "0.5",
        }
        redis_url = None
        if request.param == "redis":
            redis_url = request.getfixturevalue("redis_server").url
            redis.Redis.from_url(redis_url).flushdb()
            env["PARLEY_REDIS_URL"] = redis_url
        else:  # A has one worker: it shares the machine file because it is told to; B by itself
            env["PARLEY_MACHINE_SHARED_STATE"] = "true"
        a = ParleyServer(url, tmp, env=env)
        b = ParleyServer(url, tmp, workers=2, env={k: v for k, v in env.items() if "MACHINE" not in k})
        try:
            all_at_once([a.start, b.start])
            yield Cluster(db, a, b, redis_url)
        finally:
            a.stop()
            b.stop()
            db.dispose()


def wait_for_listeners(cluster: Cluster, count: int = 3) -> None:
    """Every worker's bus listener holds its Redis subscription (A: 1 worker, B: 2). A machine
    file's pollers start before a worker answers."""
    if cluster.redis_url is None:
        return
    client = redis.Redis.from_url(cluster.redis_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        [(_, n)] = client.pubsub_numsub("parley:live:events")
        if n >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"only {n} of {count} workers subscribed")


class SseReader:
    """A live stream read on its own thread; events collected as ``(id, kind, data)``."""

    def __init__(self, port: int, path: str, last_event_id: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.live = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.live.wait(20), "the stream did not start"

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\n")
                if line == ": live":
                    self.live.set()
                elif line.startswith(("id: ", "event: ", "data: ")):
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif not line and "event" in fields:
                    self.events.append((fields["id"], fields["event"], json.loads(fields.get("data", "{}"))))
                    fields = {}
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return  # the socket was shut down by close()

    def wait_for(self, kind: str, comment_id: int, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event_id, k, data in list(self.events):
                if k == kind and data.get("id") == comment_id:
                    return event_id
            time.sleep(0.02)
        raise AssertionError(f"no {kind} for {comment_id}; heard {self.events}")

    def close(self) -> None:
        if self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)
        self.conn.close()


def post(
    cluster: Cluster, port: int, thread: str, text: str, auth: dict[str, str], site: str = "test"
) -> Reply:
    path = f"/api/v1/threads/{thread}/comments?site={site}"
    return call(port, "POST", path, {"body": text, "title": "Cluster"}, auth)


def listed_ids(port: int, thread: str) -> list[int]:
    reply = call(port, "GET", f"/api/v1/threads/{thread}/comments?site=test")
    assert reply.status == 200, reply.body[:300]
    return [c["id"] for c in reply.json()["comments"]]


def test_a_comment_posted_through_one_instance_is_read_through_the_other(cluster: Cluster) -> None:
    thread = "read-" + uuid.uuid4().hex[:8]
    auth = cluster.token()
    first = post(cluster, cluster.a.port, thread, "Der erste Kommentar zum Thema.", auth)
    assert first.status == 201, first.body[:300]
    assert listed_ids(cluster.b.port, thread) == [first.json()["comment"]["id"]]
    # B has the page now (and may cache it): a second post through A must show on B
    second = post(cluster, cluster.a.port, thread, "Ein zweiter Kommentar, anderer Inhalt.", auth)
    assert second.status == 201, second.body[:300]
    ids = {first.json()["comment"]["id"], second.json()["comment"]["id"]}
    for _ in range(4):  # both of B's workers
        assert set(listed_ids(cluster.b.port, thread)) == ids


def test_a_reader_on_one_instance_hears_a_post_on_the_other_and_replays_on_reconnect(
    cluster: Cluster,
) -> None:
    thread = "live-" + uuid.uuid4().hex[:8]
    auth = cluster.token()
    opener = post(cluster, cluster.a.port, thread, "Ein Kommentar, damit es den Faden gibt.", auth)
    assert opener.status == 201, opener.body[:300]
    wait_for_listeners(cluster)
    events = f"/api/v1/threads/{thread}/events?site=test"
    reader = SseReader(cluster.b.port, events)
    try:
        reply = post(cluster, cluster.a.port, thread, "Eine Antwort, die live erscheinen soll.", auth)
        assert reply.status == 201, reply.body[:300]
        seen = reader.wait_for("comment.published", reply.json()["comment"]["id"])
    finally:
        reader.close()
    # posted through B while nobody listened: a reader reconnecting to A gets it from the backlog
    missed = post(cluster, cluster.b.port, thread, "Was der Leser verpasst hat.", auth)
    assert missed.status == 201, missed.body[:300]
    again = SseReader(cluster.a.port, events, last_event_id=seen)
    try:
        again.wait_for("comment.published", missed.json()["comment"]["id"])
        assert all(kind != "reset" for _, kind, _ in again.events)
    finally:
        again.close()


def test_a_rate_limit_used_up_through_one_instance_holds_on_the_other(cluster: Cluster) -> None:
    login = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.org", "password": "x" * 12}
    for _ in range(LOGIN_LIMIT):
        assert call(cluster.a.port, "POST", "/api/v1/auth/login", login).status == 401
    refused = call(cluster.b.port, "POST", "/api/v1/auth/login", login)
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_the_moderation_flood_limit_counts_posts_on_both_instances(cluster: Cluster) -> None:
    thread = "flood-" + uuid.uuid4().hex[:8]
    auth = cluster.token()
    texts = ["Erster Gedanke zur Sache.", "Noch ein Einwand dazu.", "Und eine dritte Sicht."]
    for i, text in enumerate(texts):  # the default flood rule: 3 in 20 s
        reply = post(cluster, cluster.port(i), thread, text, auth, site="flood")
        assert reply.status == 201, reply.body[:300]
    refused = post(cluster, cluster.b.port, thread, "Der vierte kommt zu schnell.", auth, site="flood")
    assert refused.status == 429, refused.body[:300]
    assert int(refused.headers["retry-after"]) >= 1


def vote_rows(db: Database, cid: int) -> tuple[int, int, list[int]]:
    with db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        return c.up, c.down, sorted(s.scalars(select(Vote.value).where(Vote.comment_id == cid)))


def test_64_concurrent_votes_of_one_account_over_both_instances_are_one_vote(cluster: Cluster) -> None:
    [cid] = make_comments(cluster.db, SystemClock(), "votes-" + uuid.uuid4().hex[:6], 1)
    auth = cluster.token()
    path = f"/api/v1/comments/{cid}/vote"
    answers = all_at_once(
        [(lambda i=i: call(cluster.port(i), "PUT", path, {"value": 1}, auth)) for i in range(64)]
    )
    assert {a.status for a in answers} == {200}, [a.body[:200] for a in answers if a.status != 200][:2]
    assert {a.json()["up"] for a in answers} == {1}
    assert vote_rows(cluster.db, cid) == (1, 0, [1])
    # 16 accounts, 4 concurrent votes each: counts equal distinct voters
    [other] = make_comments(cluster.db, SystemClock(), "crowd-" + uuid.uuid4().hex[:6], 1)
    tokens = [cluster.token() for _ in range(16)]
    path = f"/api/v1/comments/{other}/vote"
    answers = all_at_once(
        [(lambda i=i: call(cluster.port(i), "PUT", path, {"value": 1}, tokens[i % 16])) for i in range(64)]
    )
    assert {a.status for a in answers} == {200}
    assert vote_rows(cluster.db, other) == (16, 0, [1] * 16)


def test_logs_hold_no_comment_bodies(cluster: Cluster, tmp_path: Path) -> None:
    for server in (cluster.a, cluster.b):
        text = server.log.read_text(errors="replace")
        assert "Eine Antwort, die live erscheinen soll" not in text
        assert "Traceback" not in text, server.log_tail()


# --- scripts/cluster.sh ---------------------------------------------------------------------------


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def log_tails(log_dir: Path, lines: int = 15) -> str:
    """The last lines of every log the cluster wrote (its state is removed after the test)."""
    out = []
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"\n--- {log.name}\n" + "\n".join(tail))
    return "".join(out)


@pytest.mark.postgres
@pytest.mark.redis
def test_the_cluster_script_starts_two_instances_behind_nginx_and_stops_them(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import tempfile

    from support.servers import cluster_env

    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is not installed: run scripts/system-deps.sh")
    root = Path(__file__).resolve().parents[2]
    # not under tmp_path: as root, PostgreSQL runs as ``postgres``, which must reach its directory
    state = Path(tempfile.mkdtemp(prefix="parley-cluster-"))
    state.chmod(0o755)
    env = cluster_env(state, PARLEY_DEFAULT_SITE="test", PARLEY_LIVE_HEARTBEAT_SECONDS="0.5")
    port = int(env["PARLEY_CLUSTER_PORT"])

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(root / "scripts" / "cluster.sh"), *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)

    try:
        started = script("start")
        assert started.returncode == 0, started.stdout + started.stderr + log_tails(state / "log")
        assert script("status").returncode == 0
        url = next(
            line.partition("=")[2]
            for line in (state / "env").read_text().splitlines()
            if "DATABASE_URL" in line
        )
        db = Database(settings_for(url, tmp_path))
        try:
            make_site(db, SystemClock(), "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
            cluster = Cluster(db, None, None, "")  # type: ignore[arg-type]  # only the database is used
            auth = cluster.token()
        finally:
            db.dispose()
        thread = "nginx-" + uuid.uuid4().hex[:8]
        opener = post(cluster, port, thread, "Der erste Kommentar hinter nginx.", auth)
        assert opener.status == 201, opener.body[:300]
        reader = SseReader(port, f"/api/v1/threads/{thread}/events?site=test")
        try:
            time.sleep(0.5)  # the reader's worker holds its subscription (checked at startup)
            replies = [
                post(cluster, port, thread, f"Antwort Nummer {i} hinter nginx.", auth) for i in range(4)
            ]
            for reply in replies:  # nginx spreads the posts; the reader hears all of them
                assert reply.status == 201, reply.body[:300]
                reader.wait_for("comment.published", reply.json()["comment"]["id"])
        finally:
            reader.close()
        upstreams = {
            line.rsplit(" ", 1)[-1] for line in (state / "log" / "nginx-access.log").read_text().splitlines()
        }
        assert len(upstreams) == 2, upstreams  # both instances served
    finally:
        stopped = script("stop")
        status = script("status")
        left = processes_mentioning(str(state))
        shutil.rmtree(state, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert status.returncode == 1, status.stdout  # everything down
    assert left == []
