"""Big-thread benchmarks (issue 7): Parley against Isso in one run of ``../shared/bench/peers.sh``,
on SQLite and on PostgreSQL, plus what peers.sh does not measure.

Per database, one run:

1. a fresh database (SQLite file, or a private PostgreSQL from ``tests/support/servers.py``), the
   ``bench`` site with every moderation phase on (rate limits off, classifiers score but hold
   nothing: see ``BENCH_MODERATION``), ``parley serve --workers N`` (N = cores, as Isso gets);
2. ``peers.sh --target parley``: Isso and Parley seeded through their APIs with the same threads of
   10 / 100 / 1,000 / 10,000 comments, then, interleaved, the whole thread (``view=flat``), the first
   page (``limit=50&replies=3``; Isso ``limit=20&nested_limit=5``), POSTs at 16 and 64 connections,
   and the raw-ASGI and nginx ceilings for Isso's 1,000-comment bytes;
3. a 95/5 read/write mix on the 10,000-comment thread (first pages and new comments) with SSE
   subscribers connected to it (``--sse``), counting the events they receive;
4. RSS and PSS of every Parley process at the end of peers.sh and of the mix;
5. raw-ASGI ceilings for Parley's own bytes of every thread size (the same ``raw_asgi.py`` under
   uvicorn, with the machine to itself), so every ``view=flat`` figure has a ceiling;
6. with ``--compare-read-modes`` (``run_all.py --read-modes``, PostgreSQL): the same seeded
   database served by the code with and without commit 929c462 (public reads on the event loop vs.
   in the thread pool), first page at 64 connections and the 1,000-comment thread at 16,
   alternated A/B/A/B; at ``--read-modes-rev`` (default: the last commit before the response
   cache, which would otherwise answer both from memory);
7. ``--post-rounds`` (default 2) more POST rounds beside Isso, each on a fresh database and server:
   peers.sh with only the 10-comment thread read. ``run_all.py`` reports the median of the POST
   ratios of all runs in which Isso posted beside Parley, and each of them.

The server runs the committed code (``--src HEAD``, a ``git archive`` export), not the working tree
that others edit while a run lasts; ``--src worktree`` runs the working tree.

    .venv/bin/python benchmarks/bench_api.py --db sqlite
    .venv/bin/python benchmarks/bench_api.py --db postgresql --compare-read-modes
    DURATION=3 .venv/bin/python benchmarks/bench_api.py --db both --json /tmp/bench.json

peers.sh's knobs pass through (DURATION, BIG_DURATION, CONNS, SIZES, SKIP_ISSO, ...); ours default
to DURATION=4 and BIG_DURATION=10 so both databases fit in ``make bench``'s half hour.
Not part of the test suite. ``benchmarks/run_all.py`` prints the summary and the goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"
PEERS = BENCH / "peers.sh"
PEERS_DIR = Path(os.environ.get("PEERS_DIR", Path.home() / ".cache" / "parley-peers"))
MIX_LUA = Path(__file__).resolve().parent / "mix.lua"
READS_ON_LOOP_COMMIT = "929c462"
# the last commit before the response cache (2f376c4): 929c462 undoes cleanly there, and no cache
# hides the difference between the two ways of running a read
READ_MODES_BASE = "68d93d6"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(BENCH))

from support.servers import ParleyServer, PostgresServer  # noqa: E402

GET_TPL = "/api/v1/threads/{thread}/comments?view=flat"
POST_TPL = "/api/v1/threads/{thread}/comments"
BODY_TPL = (
    '{"body": "{text}", "author_name": "{author}", "email": "{email}", '
    '"title": "{title}", "parent_id": {parent}}'
)
PAGE_TPL = "/api/v1/threads/{thread}/comments?limit=50&replies=3"
PEERS_DEFAULTS = {"DURATION": "4", "BIG_DURATION": "10"}

# Every phase of the pipeline runs, as on any site, with two changes: the per-author and per-address
# rate limits are off (one seeding client posts 11,110 comments), and the text classifiers score
# every comment but hold none, so every seeded comment is published like Isso's (moderation off)
# and the threads have the same size on both sides (replies to a held comment would be refused).
BENCH_MODERATION = {
    "rate": {"enabled": False},
    "classifier": {task: {"hold": False} for task in ("offense", "toxic", "fact_claim", "engaging")},
}
# With BENCH_RATE_ON=1 in the environment (``bench_post_http.py --rate-on``): the rate limits on, with
# every rule of the default policy but limits nobody reaches, so each POST reads and records its
# events as on a site with the defaults, and none is refused or held for it.
_NEVER = 100_000  # the most a rule may count (RateRule.max); a run posts a few thousand
BENCH_RATE_ON = {
    "enabled": True,
    "flood": {"max": _NEVER, "per_seconds": 20},
    "rate": [{"max": _NEVER, "per_seconds": 600}, {"max": _NEVER, "per_seconds": 86400}],
    "ip": [{"max": _NEVER, "per_seconds": 600}],
    "thread": {"max": _NEVER, "per_seconds": 60},
}


def log(msg: str) -> None:
    print(f"# [{time.strftime('%H:%M:%S', time.gmtime())} UTC] {msg}", file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# ------------------------------------------------------------------------------- code under test


def export_source(rev: str, dest: Path, revert: str | None = None) -> Path:
    """``git archive`` of ``src/`` at ``rev`` into ``dest``; with ``revert``, that commit undone on
    top (``patch -R``). Returns the ``src`` directory to put on PYTHONPATH."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    if revert:
        diff = subprocess.run(
            ["git", "-C", str(ROOT), "diff", f"{revert}^", revert, "--", "src"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["patch", "-s", "-R", "-p1", "-d", str(dest)], input=diff, check=True)
    return dest / "src"


def alternated(revs: list[str], rounds: int, prefix: str) -> Iterator[tuple[int, str, Path | None, Path]]:
    """For A/B runs of revisions (``worktree`` = the working tree): each revision's ``src`` exported
    once, then ``(round, revision, src or None, a fresh temporary directory)`` for every revision
    in every round, alternated, so the machine's load falls on all of them alike. Every other round
    runs them in reverse order (A B, B A, A B …): in a fixed order the second of two identical
    servers measured 4-13 % faster, round after round (2026-11-27, ``bench_post_http.py``)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as base:
        sources = {
            rev: None if rev == "worktree" else export_source(rev, Path(base) / f"code{i}")
            for i, rev in enumerate(revs)
        }
        for round_no in range(rounds):
            for i, rev in in_turn(list(enumerate(revs)), round_no):
                with tempfile.TemporaryDirectory(dir=base, prefix=f"r{round_no}-{i}-") as tmp:
                    yield round_no + 1, rev, sources[rev], Path(tmp)


T = TypeVar("T")


def in_turn(items: list[T], round_no: int) -> list[T]:
    """``items`` in the order of round ``round_no`` (from 0): as given, reversed in odd rounds."""
    return items[::-1] if round_no % 2 else items


def git_rev(rev: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", rev], capture_output=True, text=True
    )
    return out.stdout.strip()[:80]


def prepare(database_url: str, data_dir: Path) -> None:
    """Migrate and create the ``bench`` site: guests allowed, threads created on first comment.
    Runs in a child process with the code under test on PYTHONPATH (``--prepare``)."""
    from parley.clock import SystemClock
    from parley.db import migrate
    from parley.db.database import Database
    from parley.sites.services import do_create_site
    from support.apps import settings_for

    settings = settings_for(database_url, data_dir)
    moderation = BENCH_MODERATION
    if os.environ.get("BENCH_RATE_ON"):
        moderation = {**BENCH_MODERATION, "rate": BENCH_RATE_ON}
    migrate.upgrade(settings)
    db = Database(settings)
    try:
        with db.write() as s:
            do_create_site(
                s,
                slug="bench",
                name="Benchmark",
                now=SystemClock().now(),
                settings={"moderation": moderation},
            )
    finally:
        db.dispose()


def seed(url: str, data_dir: Path, threads: dict[str, int]) -> None:
    """:func:`prepare`, then the ``bench`` site's threads (key → number of comments), written through
    the services in one transaction per thread (not the API: no moderation, no rate limits)."""
    from parley.clock import SystemClock
    from parley.db.database import Database
    from support.apps import settings_for
    from support.factories import make_comments

    prepare(url, data_dir)
    db = Database(settings_for(url, data_dir))
    try:
        for thread, comments in threads.items():
            text = "Kommentar Nummer {i} zum Artikel."
            make_comments(db, SystemClock(), thread, comments, site="bench", text=text)
    finally:
        db.dispose()


# ------------------------------------------------------------------------------- processes


def proc_tree(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def memory(pid: int) -> list[dict[str, Any]]:
    """RSS and PSS (MB) of every process of the server: the supervisor, its workers, helpers."""
    rows = []
    for p in proc_tree(pid):
        try:
            status = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{p}/status").read_text().splitlines()
                if ":" in line
            )
            pss = sum(
                int(line.split()[1])
                for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
                if line.startswith("Pss:")
            )
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, KeyError):
            continue
        role = "supervisor" if p == pid else "worker" if "spawn_main" in cmd else "helper"
        if "resource_tracker" in cmd:
            role = "helper"
        rss = int(status["VmRSS"].split()[0]) / 1024
        rows.append({"pid": p, "role": role, "rss_mb": round(rss, 1), "pss_mb": round(pss / 1024, 1)})
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ------------------------------------------------------------------------------- wrk


def wrk(url: str, conns: int, seconds: float, script: Path, arg: str | None = None) -> dict[str, Any]:
    threads = min(conns, 2)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    cmd += ["-s", str(script), url]
    if arg:
        cmd += ["--", arg]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKRESULT")), None)
    if line is None:
        return {"failed": out[-500:]}
    kv = dict(x.split("=") for x in line.split()[1:])
    n, dur = int(kv["requests"]), int(kv["duration_us"]) / 1e6
    return {
        "conns": conns,
        "requests": n,
        "rps": round(n / dur, 1),
        "p50_ms": int(kv["p50_us"]) / 1000,
        "p99_ms": int(kv["p99_us"]) / 1000,
        "errors": sum(int(v) for k, v in kv.items() if k.startswith("err_")),
        "kb_per_response": round(int(kv["bytes"]) / n / 1024, 1) if n else None,
    }


def cpu_ms(pid: int) -> tuple[int, int]:
    """User and system CPU milliseconds of ``pid`` and its descendants so far (``/proc``)."""
    user = system = 0
    for p in proc_tree(pid):
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            user += int(f[11])
            system += int(f[12])
        except (OSError, IndexError):
            continue
    tick = os.sysconf("SC_CLK_TCK")
    return user * 1000 // tick, system * 1000 // tick


def wait_idle(pid: int, idle_ms: int = 25, limit: float = 120.0) -> None:
    """Until the server's CPU stays flat for 0.5 s (queued work done), as peers.sh's drain."""

    def cpu() -> int:
        return sum(cpu_ms(pid))

    deadline = time.monotonic() + limit
    c0 = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        c1 = cpu()
        if c1 - c0 < idle_ms:
            return
        c0 = c1


# ------------------------------------------------------------------------------- SSE subscribers


class Subscribers:
    """``n`` Server-Sent-Events readers of one thread, each on its own connection (reconnecting
    when a stream ends), counting the ``comment.published`` events they receive."""

    def __init__(self, port: int, path: str, n: int) -> None:
        self.port, self.path, self.n = port, path, n
        self.events = [0] * n
        self.connected = 0
        self.failures = 0
        self.loop = asyncio.new_event_loop()
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Subscribers:
        self.thread.start()
        deadline = time.monotonic() + 15
        while self.connected < self.n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self.stopping = asyncio.Event()
        tasks = [asyncio.create_task(self._reader(i)) for i in range(self.n)]
        await self.stopping.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _reader(self, i: int) -> None:
        first = True
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                head = f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                writer.write(head.encode())
                await writer.drain()
                status = await reader.readline()
                if b" 200 " not in status:
                    self.failures += 1
                    await asyncio.sleep(1)
                    continue
                if first:
                    self.connected += 1
                    first = False
                while line := await reader.readline():
                    if line.startswith(b"event: comment.published"):
                        self.events[i] += 1
                writer.close()
            except OSError:
                self.failures += 1
                await asyncio.sleep(0.5)

    def stop(self) -> dict[str, Any]:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)
        ev = sorted(self.events)
        return {
            "subscribers": self.n,
            "connected": self.connected,
            "failures": self.failures,
            "events_min": ev[0] if ev else 0,
            "events_median": ev[len(ev) // 2] if ev else 0,
            "events_max": ev[-1] if ev else 0,
        }


def mix_file(path: Path, thread: str | list[str], count: int, write_share: float) -> None:
    """Request lines for mix.lua: first pages of ``thread`` and, ``write_share`` of them spread
    evenly, new top-level comments to it (texts and authors as seed.py makes them). Several
    threads: reads go to them in turn, and so do writes (counted apart, so every thread gets its
    share of both whatever the write share)."""
    import seed  # ../shared/bench/seed.py (standard library only)

    rng = random.Random(7)
    keys = [thread] if isinstance(thread, str) else thread
    every = round(1 / write_share)
    with path.open("w") as fh:
        for n in range(count):
            writes = n // every
            if n % every == every - 1:
                key = keys[writes % len(keys)]
                name, email = seed.author(rng, 500)
                body = json.dumps(
                    {"body": f"{seed.make_text(rng)} ({n})", "author_name": name, "email": email},
                    ensure_ascii=False,
                )
                fh.write(f"POST\t{seed.render_url(POST_TPL, key)}\t{body}\n")
            else:
                fh.write(f"GET\t{seed.render_url(PAGE_TPL, keys[(n - writes) % len(keys)])}\n")


def writers_lock(port: int) -> dict[str, float] | None:
    """The writers' lock as one worker's ``/metrics`` tells it (SQLite; since the worker started):
    ms per unit of its bodies (wall, CPU), per transaction of opening and committing (wall, CPU),
    units per transaction. None without those metrics (PostgreSQL, an older revision)."""
    from prometheus_client.parser import text_string_to_metric_families

    held: dict[tuple[str, str], float] = {}
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(fetch(port, "/metrics").decode()):
        for sample in family.samples:
            if sample.name == "parley_db_writers_lock_seconds":
                held[sample.labels["clock"], sample.labels["part"]] = sample.value
            elif sample.name == "parley_db_group_commit":
                counts[sample.labels["count"]] = sample.value
    units, transactions = counts.get("units", 0.0), counts.get("transactions", 0.0)
    if not held or not units or not transactions:
        return None
    return {
        "unit_wall_ms": round(held["wall", "unit"] / units * 1e3, 2),
        "unit_cpu_ms": round(held["cpu", "unit"] / units * 1e3, 2),
        "open_wall_ms": round(held["wall", "open"] / transactions * 1e3, 2),
        "commit_wall_ms": round(held["wall", "commit"] / transactions * 1e3, 2),
        "commit_cpu_ms": round(held["cpu", "commit"] / transactions * 1e3, 2),
        "units_per_transaction": round(units / transactions, 1),
    }


def fetch(port: int, path: str) -> bytes:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path} -> {resp.status}: {body[:200]!r}")
        return body
    finally:
        conn.close()


# ------------------------------------------------------------------------------- peers.sh table


def parse_peers(lines: list[str]) -> dict[str, Any]:
    """peers.sh's table as {"target/workload/cN": {...}} and {"target/mem-phase": "rss_MB=.."}."""
    rows: dict[str, Any] = {}
    for line in lines:
        f = line.split()
        if len(f) >= 3 and f[1].startswith("mem-"):
            rows[f"{f[0]}/{f[1]}"] = dict(x.split("=") for x in f[2:] if "=" in x)
            continue
        if len(f) < 9 or not f[2].isdigit():
            continue
        try:
            rps, p50, p99, errs = float(f[3]), float(f[4]), float(f[5]), int(f[6])
        except ValueError:
            continue
        rows[f"{f[0]}/{f[1]}/c{f[2]}"] = {
            "rps": rps,
            "p50_ms": p50,
            "p99_ms": p99,
            "errors": errs,
            "cpu_ms_per_req": float(f[7]) if f[7] != "-" else None,
            "kb_per_response": float(f[8]) if f[8] != "-" else None,
        }
    return rows


def run_peers(server: ParleyServer, pid: int, env: dict[str, str]) -> tuple[list[str], Path | None]:
    cmd = ["bash", str(PEERS), "--target", "parley", server.url, GET_TPL, POST_TPL, BODY_TPL]
    cmd += ["--page-url", PAGE_TPL, "--id-field", "comment.id", "--target-pid", str(pid)]
    print("# " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    started = int(time.time())
    lines: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    runs = [p for p in (PEERS_DIR / "runs").glob("*") if p.name.isdigit() and int(p.name) >= started - 1]
    return lines, max(runs, key=lambda p: int(p.name)) if runs else None


def post_statuses(url: str, run_dir: Path | None) -> dict[str, int]:
    """How moderation decided the comments of peers.sh's POST workload (its 20 ``-p`` threads, both
    connection counts, each thread's first comment included), by status. Every wrk run of it starts
    at the top of the same request file, so the 64-connection run posts the 16-connection run's
    texts again, which the copy phase holds: the share of held POSTs says how much of that work the
    ratio carries (Isso stores them again)."""
    if run_dir is None:
        return {}
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.status, count(*) FROM comments c JOIN threads t ON t.id = c.thread_id "
                    "WHERE t.key LIKE :pattern GROUP BY c.status"
                ),
                {"pattern": f"parley-{run_dir.name}-p%"},
            ).all()
    except Exception as exc:  # a count for the report: never the reason a benchmark part fails
        log(f"counting the POST workload's comments failed: {exc!r}")
        return {}
    finally:
        engine.dispose()
    return {str(status): int(n) for status, n in rows}


# ------------------------------------------------------------------------------- one database


def server_env(src: Path | None) -> dict[str, str]:
    env = {
        "PARLEY_DEFAULT_SITE": "bench",
        "PARLEY_RATE_LIMITS_ENABLED": "false",
        "PARLEY_LOG_LEVEL": "WARNING",
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    models = ROOT / "var" / "models"
    if models.is_dir():  # the models `parley model train` made here: all four tasks score, as on a site
        env["PARLEY_MODEL_DIR"] = str(models)
    return env


def schema_head(src: Path) -> str:
    """The migration head of the code in ``src`` (the revision no other revision follows)."""
    import re

    revs, downs = set(), set()
    for f in (src / "parley" / "db" / "migrations" / "versions").glob("*.py"):
        body = f.read_text()
        revs |= set(re.findall(r'^revision: str = "(\w+)"', body, re.M))
        downs |= set(re.findall(r'^down_revision: .*= "(\w+)"', body, re.M))
    [head] = revs - downs
    return head


def downgrade(url: str, data_dir: Path, src: Path, revision: str) -> None:
    """Take the schema back to ``revision`` with the code in ``src`` (which knows both)."""
    code = (
        "import sys; from pathlib import Path; from alembic import command;"
        "from parley.db.migrate import alembic_config; from support.apps import settings_for;"
        "command.downgrade(alembic_config(settings_for(sys.argv[1], Path(sys.argv[2]))), sys.argv[3])"
    )
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{ROOT / 'tests'}")
    subprocess.run([sys.executable, "-c", code, url, str(data_dir), revision], env=env, check=True)


def bench_database(db: str, data_dir: Path, name: str = "parley_bench") -> tuple[str, PostgresServer | None]:
    """The URL of a fresh database for a benchmark run: a SQLite file in ``data_dir``, or a new
    database on a private PostgreSQL server started here (the caller stops it)."""
    if db != "postgresql":
        return f"sqlite:///{data_dir / 'parley.db'}", None
    pg = PostgresServer().start()
    try:
        pg.psql(f"CREATE DATABASE {name}")
    except BaseException:
        pg.stop()
        raise
    return pg.url(name), pg


def serve_fresh(
    db: str, data_dir: Path, src: Path | None, workers: int, settings: dict[str, str] | None = None
) -> tuple[str, PostgresServer | None, ParleyServer]:
    """A fresh database prepared as ``make bench`` prepares it (:func:`run_prepare`) and ``parley
    serve`` on it, started; should either fail, what was started is stopped again. The caller
    stops the server and the PostgreSQL server (:func:`clean_up`). ``settings``: ``PARLEY_*``
    variables for the server on top of :func:`server_env`'s."""
    url, pg = bench_database(db, data_dir)
    server: ParleyServer | None = None
    try:
        run_prepare(url, data_dir, src)
        server = ParleyServer(url, data_dir, workers=workers, env=server_env(src) | (settings or {}))
        server.start()
        assert server.proc is not None
    except BaseException:
        clean_up(server, pg, None)
        raise
    return url, pg, server


def run_prepare(url: str, data_dir: Path, src: Path | None) -> None:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    subprocess.run([sys.executable, __file__, "--prepare", url, str(data_dir)], env=env, check=True)


def measure_ceilings(bodies: dict[int, Path], plan: dict[int, list[int]], seconds: float) -> dict[str, Any]:
    """raw_asgi.py under uvicorn (peers.sh's tools venv, same worker count) serving Parley's own
    bytes of each thread size, at the connection counts Parley's ``view=flat`` ran with."""
    uvicorn = PEERS_DIR / "tools-venv" / "bin" / "uvicorn"
    out: dict[str, Any] = {}
    for size, body in bodies.items():
        port = free_port()
        env = dict(os.environ, RAW_ASGI_BODY=str(body))
        cmd = [str(uvicorn), "raw_asgi:app", "--app-dir", str(BENCH), "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", str(os.cpu_count() or 1), "--no-access-log"]
        cmd += ["--log-level", "warning"]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    fetch(port, "/")
                    break
                except OSError:
                    time.sleep(0.2)
            for conns in plan[size]:
                out[f"t{size}/c{conns}"] = wrk(
                    f"http://127.0.0.1:{port}/", conns, seconds, BENCH / "report.lua"
                )
                wait_idle(proc.pid)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(20)
    return out


def compare_read_modes(
    url: str,
    data_dir: Path,
    src_rev: str,
    threads: dict[str, str],
    seconds: float,
    workers: int,
    current_src: Path,
) -> dict[str, Any]:
    """The same database, served by ``src_rev`` (reads on the event loop) and by ``src_rev`` with
    commit 929c462 undone (reads in the thread pool); A/B/A/B so a load change hits both."""
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-ab-"))
    try:
        variants = {
            "event_loop": export_source(src_rev, tmp / "loop"),
            "thread_pool": export_source(src_rev, tmp / "pool", revert=READS_ON_LOOP_COMMIT),
        }
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        return {"skipped": f"cannot undo {READS_ON_LOOP_COMMIT} on {src_rev}: {exc}"}
    old_head = schema_head(variants["event_loop"])
    if old_head != schema_head(current_src):
        downgrade(url, data_dir, current_src, old_head)  # migrations since src_rev add indexes only
    import seed

    big = max(threads, key=int)
    mid = "1000" if "1000" in threads else big
    work = {
        f"page-t{big}/c64": (seed.render_url(PAGE_TPL, threads[big]), 64),
        f"flat-t{mid}/c16": (seed.render_url(GET_TPL, threads[mid]), 16),
    }
    out: dict[str, Any] = {name: {} for name in variants}
    try:
        for _round in range(2):
            for name, src in variants.items():
                server = ParleyServer(url, data_dir, workers=workers, env=server_env(src))
                server.start()
                try:
                    assert server.proc is not None
                    for key, (path, conns) in work.items():
                        fetch(server.port, path)
                        r = wrk(server.url + path, conns, seconds, BENCH / "report.lua")
                        r["load"] = loadavg()
                        out[name].setdefault(key, []).append(r)
                        wait_idle(server.proc.pid)
                finally:
                    server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run_database(db: str, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "db": db,
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "uptime_start": uptime(),
        "code": git_rev(args.src) if args.src != "worktree" else "working tree",
        "workers": args.workers,
        "nproc": os.cpu_count(),
    }
    env = dict(os.environ)
    for k, v in PEERS_DEFAULTS.items():
        env.setdefault(k, v)
    result["peers_env"] = {
        k: env[k]
        for k in ("DURATION", "BIG_DURATION", "CONNS", "SIZES", "CONNS_T1000", "BIG_CONNS")
        if k in env
    }
    seconds = float(env["DURATION"])
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    src = None if args.src == "worktree" else export_source(args.src, tmp / "code")
    pg: PostgresServer | None = None
    server: ParleyServer | None = None
    try:
        url, pg, server = serve_fresh(db, tmp, src, args.workers)
        assert server.proc is not None
        pid = server.proc.pid
        log(f"{db}: parley serve pid {pid} on {server.url}; {uptime()}")
        lines, run_dir = run_peers(server, pid, env)
        result["peers"] = parse_peers(lines)
        result["peers_run"] = str(run_dir) if run_dir else None
        result["post_statuses"] = post_statuses(url, run_dir)
        result["memory_after_peers"] = memory(pid)
        result["uptime_after_peers"] = uptime()
        threads: dict[str, str] = {}
        if run_dir and (run_dir / "parley-threads.json").exists():
            threads = json.loads((run_dir / "parley-threads.json").read_text())
        # Parley's own bytes for the ceilings (before the mix adds comments to the biggest thread)
        bodies: dict[int, Path] = {}
        for size, thread in threads.items():
            if int(size) <= 10000:
                bodies[int(size)] = tmp / f"flat-{size}.json"
                bodies[int(size)].write_bytes(fetch(server.port, seed_url(GET_TPL, thread)))
        big = threads.get("10000") or (threads[max(threads, key=int)] if threads else None)
        if big:
            import seed

            reqs = tmp / "mix.req"
            mix_file(reqs, big, 20000, 0.05)
            subs = Subscribers(server.port, seed.render_url("/api/v1/threads/{thread}/events", big), args.sse)
            subs.start()
            fetch(server.port, seed.render_url(PAGE_TPL, big))
            mix = wrk(server.url + "/", args.mix_conns, args.mix_seconds, MIX_LUA, str(reqs))
            time.sleep(1)  # events of the last writes still on their way
            mix["sse"] = subs.stop()
            mix["write_share"] = 0.05
            mix["thread_size"] = int(next(k for k, v in threads.items() if v == big))
            result["mix"] = mix
            print("# mix: " + json.dumps(mix), flush=True)
            wait_idle(pid)
            result["memory_after_mix"] = memory(pid)
        if args.compare_read_modes and threads:
            server.stop()
            server = None
            log(f"{db}: reads on the event loop vs. in the thread pool ({uptime()})")
            result["read_modes"] = compare_read_modes(
                url, tmp, args.read_modes_rev, threads, seconds, args.workers, src or ROOT / "src"
            )
            result["read_modes_code"] = git_rev(args.read_modes_rev)
        if server is not None:
            server.stop()
            server = None
        plan = {size: flat_conns(size, env) for size in bodies}
        log(f"{db}: raw-ASGI ceilings for Parley's bytes ({uptime()})")
        result["ceilings"] = measure_ceilings(bodies, plan, seconds)
        result["ceiling_bytes"] = {str(k): v.stat().st_size for k, v in bodies.items()}
        result["post_rounds"] = [
            post_round(db, n, args.post_rounds, src, args.workers, env) for n in range(args.post_rounds)
        ]
    finally:
        clean_up(server, pg, tmp)
    result["uptime_end"] = uptime()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return result


def clean_up(server: ParleyServer | None, pg: PostgresServer | None, tmp: Path | None) -> None:
    """Stop what a part or a round started and remove its directory (if given)."""
    if server is not None:
        server.stop()
    if pg is not None:
        pg.cleanup()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def post_round(
    db: str, n: int, rounds: int, src: Path | None, workers: int, env: dict[str, str]
) -> dict[str, Any]:
    """One more POST round beside Isso, on a fresh database and server (a second seeding into the
    same site would post copies of the first one's texts, which the copy phase rightly holds):
    peers.sh with only the 10-comment thread read, ~1.5 minutes. This machine's speed drifts by a
    third within minutes, so the ratio of two 4-second runs moves a lot; rounds give a median."""
    log(f"{db}: POST round {n + 1} of {rounds} beside Isso ({uptime()})")
    round_env = {k: v for k, v in env.items() if k != "SKIP_ISSO"}
    round_env.update({"SIZES": "10", "SKIP_CEILINGS": "1"})
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-round-"))
    pg: PostgresServer | None = None
    server: ParleyServer | None = None
    try:
        url, pg, server = serve_fresh(db, tmp, src, workers)
        assert server.proc is not None
        lines, run_dir = run_peers(server, server.proc.pid, round_env)
        statuses = post_statuses(url, run_dir)
    finally:
        clean_up(server, pg, tmp)
    rows = parse_peers(lines)
    return {
        "uptime": uptime(),
        "peers": {k: v for k, v in rows.items() if "/post-new/" in k},
        "post_statuses": statuses,
    }


def seed_url(tpl: str, thread: str) -> str:
    import seed

    return str(seed.render_url(tpl, thread))


def flat_conns(size: int, env: dict[str, str]) -> list[int]:
    """The connection counts peers.sh uses for ``view=flat`` of a thread of ``size``."""
    if size == int(env.get("BIG_SIZE", "10000")):
        return [int(c) for c in env.get("BIG_CONNS", "2").split()]
    if size == 1000:
        return [int(c) for c in env.get("CONNS_T1000", "16").split()]
    return [int(c) for c in env.get("CONNS", "16 64").split()]


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--prepare":
        prepare(sys.argv[2], Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parley serve --workers")
    parser.add_argument("--src", default="HEAD", help="git revision to serve, or 'worktree' (default HEAD)")
    parser.add_argument("--sse", type=int, default=50, help="SSE subscribers during the mix")
    parser.add_argument("--mix-conns", type=int, default=64)
    parser.add_argument("--mix-seconds", type=float, default=10.0)
    parser.add_argument("--compare-read-modes", action="store_true", help="event loop vs. thread pool")
    parser.add_argument(
        "--read-modes-rev", default=READ_MODES_BASE, help="code for --compare-read-modes (same schema)"
    )
    parser.add_argument(
        "--post-rounds",
        type=int,
        default=2,
        help="more peers.sh rounds of POSTs beside Isso after the full run (each ~1.5 min)",
    )
    parser.add_argument("--json", type=Path, help="write the results here (run_all.py reads them)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get update && apt-get install -y wrk")
    results = []
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        results.append(run_database(db, args))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1))
    if not args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
