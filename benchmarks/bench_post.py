"""CPU per POST (issue 7): server CPU milliseconds of one guest ``POST /api/v1/threads/{key}/comments``
with every moderation phase on, measured in process, with where it goes.

The app is built as ``parley serve`` builds it (``create_app``) on a fresh database, the ``bench``
site gets ``bench_api.BENCH_MODERATION`` (every phase runs; rate limits off, classifiers score but
hold nothing), and the requests go straight to the ASGI app from this process, so nothing but the
server's own work is counted: the CPU time of the whole process (event loop and thread pool) around
each request. Bodies, names and e-mail addresses are ``../shared/bench/seed.py``'s, 20 threads,
each request a new guest (no cookie), as in ``peers.sh``'s POST workload; ``--mode same`` reposts
as one returning guest under one name (session cookie and CSRF header); ``--mode repost`` sends the measured
requests once before, unmeasured, and then measures them again — the copies the copy phase holds,
as in peers.sh's 64-connection run, which repeats the 16-connection run's request file.

Printed: median / mean / p90 CPU ms per POST, SQL statements per POST, the median of every
moderation phase (the pipeline's own timings), and with ``--steps`` the mean CPU ms of each step
of the write path (the step functions are wrapped with a timer for this run only).

    .venv/bin/python benchmarks/bench_post.py                          # the working tree, SQLite
    .venv/bin/python benchmarks/bench_post.py --steps --posts 600
    .venv/bin/python benchmarks/bench_post.py --compare 528d45d,HEAD --rounds 3   # A/B, alternated
    .venv/bin/python benchmarks/bench_post.py --db postgresql

The classifier models are looked for as the server does (``var/models`` under the current
directory, then the shipped offense model); ``--model-dir`` chooses. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(SEED))

# (module, function, label): the write path of a POST, in order (``parley.comments.posting``)
STEPS = (
    ("parley.comments.threads", "do_get_or_create_thread", "thread"),  # revisions before PostThread
    ("parley.comments.threads", "do_open_post", "thread"),
    ("parley.comments.posting", "do_resolve_author", "author (guest account + session)"),
    ("parley.comments.services", "render_body", "render (Markdown + nh3)"),
    ("parley.comments.services", "run_pipeline", "moderation pipeline"),
    ("parley.comments.services", "do_insert_comment", "insert (+ counters, comment.published)"),
    ("parley.comments.services", "do_record_moderation", "record decision"),
    ("parley.comments.posting", "do_record_outcome", "record outcome (copy index)"),
    ("parley.comments.posting", "do_emit", "emit comment.created"),
    ("parley.comments.queries", "row_by_id", "response: re-read the row"),
)


def wrap_steps(totals: dict[str, float]) -> None:
    """Time each step (thread CPU): the request's work runs on one thread of the pool."""
    for module_name, attr, label in STEPS:
        module = importlib.import_module(module_name)
        inner = getattr(module, attr, None)
        if inner is None:  # not in the revision measured
            continue

        def timed(*a: Any, _f: Callable[..., Any] = inner, _l: str = label, **k: Any) -> Any:
            t0 = time.thread_time()
            try:
                return _f(*a, **k)
            finally:
                totals[_l] = totals.get(_l, 0.0) + time.thread_time() - t0

        setattr(module, attr, functools.wraps(inner)(timed))


class AsgiDriver:
    """Sends requests to the ASGI app from this thread's event loop: no HTTP client in the figure."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def post(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        headers = [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.encode(), v.encode()) for k, v in self.headers.items()),
        ]
        if self.cookies:
            jar = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            headers.append((b"cookie", jar.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "state": {},
        }
        sent = False
        out: dict[str, Any] = {"status": 0, "body": b"", "headers": []}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"], out["headers"] = message["status"], message["headers"]
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        self.loop.run_until_complete(self.app(scope, receive, send))
        for key, value in out["headers"]:
            if key.lower() == b"set-cookie":
                name, _, rest = value.decode().partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return out["status"], out["body"]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import seed  # ../shared/bench/seed.py: the texts and authors peers.sh posts
    from sqlalchemy import event

    from bench_api import BENCH_MODERATION, bench_database
    from parley.app import create_app
    from parley.clock import SystemClock
    from parley.db import migrate
    from parley.moderation.types import PhaseRun
    from parley.sites.services import do_create_site
    from support.apps import settings_for

    if args.model_dir:
        os.environ["PARLEY_MODEL_DIR"] = args.model_dir
    data_dir = Path(tempfile.mkdtemp(prefix="bench-post-"))
    url, pg = bench_database(args.db, data_dir, "bench_post")
    try:
        settings = settings_for(url, data_dir, default_site="bench", rate_limits_enabled=False)
        migrate.upgrade(settings)
        app = create_app(settings)
        registry = app.state.registry
        with registry.db.write() as s:
            do_create_site(
                s,
                slug="bench",
                name="Benchmark",
                now=SystemClock().now(),
                settings={"moderation": BENCH_MODERATION},
            )
        phases: dict[str, list[float]] = {}

        def observe(run: PhaseRun) -> None:
            phases.setdefault(run.phase, []).append(run.seconds)

        registry.pipeline.observers.append(observe)
        statements = [0]
        event.listen(
            registry.db.write_engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
        rng = random.Random(7)
        threads = [f"bench-post-{i}" for i in range(20)]
        posts = []
        regular = seed.author(rng, 500)
        for n in range(args.warmup + args.posts):
            name, email = seed.author(rng, 500)
            if args.mode == "same":  # a returning guest keeps its name (a new one each time is a rename)
                name, email = regular
            text = seed.make_text(rng)
            payload = {"body": text, "author_name": name, "email": email, "title": "Benchmark POST article"}
            posts.append((f"/api/v1/threads/{threads[n % len(threads)]}/comments", payload))
        driver = AsgiDriver(app)

        def post(path: str, payload: dict[str, Any]) -> int:
            if args.mode != "same":  # a new guest
                driver.cookies.clear()
            status, body = driver.post(path, payload)
            if args.mode == "same" and status == 201 and "session" in (data := json.loads(body)):
                driver.headers["x-csrf-token"] = data["session"]["csrf_token"]
            return status

        for path, payload in posts[: args.warmup]:  # creates the threads, loads the models
            if post(path, payload) != 201:
                raise SystemExit(f"warm-up POST failed on {path}")
        if args.mode == "repost":  # the same requests once before, unmeasured: these are copies now
            for path, payload in posts[args.warmup :]:
                post(path, payload)
        # as a served worker after start-up (create_app's freeze_heap): what is alive moves to the
        # permanent generation and young collections come every gc_young_threshold allocations;
        # without this, collections of the warm-up's heap were timed into whatever ran (cProfile
        # put 0.2 ms of a session's identity map there)
        gc.collect()
        gc.freeze()
        gc.set_threshold(settings.gc_young_threshold, *gc.get_threshold()[1:])
        phases.clear()
        held = [0.0]
        write = registry.db.write

        unit_profiler = None
        if args.profile_write:
            import cProfile

            unit_profiler = cProfile.Profile()

        @contextlib.contextmanager
        def timed_write() -> Any:  # thread CPU inside the writers' lock: what other writers wait for
            t0 = time.thread_time()
            if unit_profiler is not None:
                unit_profiler.enable()
            try:
                with write() as session:
                    yield session
            finally:
                if unit_profiler is not None:
                    unit_profiler.disable()
                held[0] += time.thread_time() - t0

        registry.db.write = timed_write
        steps: dict[str, float] = {}
        if args.steps:
            wrap_steps(steps)
        statements[0] = 0
        cpu: list[float] = []
        statuses: dict[int, int] = {}
        profiler = None
        if args.profile:
            import cProfile

            import fastapi.routing

            async def inline(func: Any, *a: Any, **kw: Any) -> Any:  # the endpoint on this thread
                return func(*a, **kw)

            fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
            profiler = cProfile.Profile()
            profiler.enable()
        for path, payload in posts[args.warmup :]:
            t0 = time.process_time()
            status = post(path, payload)
            cpu.append((time.process_time() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        if unit_profiler is not None:
            unit_profiler.dump_stats(args.profile_write)
        registry.close()
    finally:
        if pg is not None:
            pg.stop()
    cpu.sort()
    return {
        "posts": args.posts,
        "mode": args.mode,
        "db": args.db,
        "statuses": statuses,
        "cpu_ms_median": round(statistics.median(cpu), 2),
        "cpu_ms_mean": round(statistics.mean(cpu), 2),
        "cpu_ms_p90": round(cpu[int(0.9 * len(cpu))], 2),
        "statements_per_post": round(statements[0] / args.posts, 1),
        "write_unit_cpu_ms_mean": round(held[0] * 1000 / args.posts, 2),
        "phase_ms_median": {k: round(statistics.median(v) * 1000, 3) for k, v in phases.items()},
        "step_ms_mean": {k: round(v * 1000 / args.posts, 3) for k, v in steps.items()},
        "load": os.getloadavg()[0],
    }


def export_source(rev: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "src"


def compare(args: argparse.Namespace, revs: list[str]) -> None:
    """Each revision's ``src`` exported and measured in a child process, rounds alternated."""
    child = [
        sys.executable,
        __file__,
        "--json",
        "--posts",
        str(args.posts),
        "--mode",
        args.mode,
        "--db",
        args.db,
    ]
    if args.model_dir:
        child += ["--model-dir", args.model_dir]
    results: dict[str, list[float]] = {rev: [] for rev in revs}
    in_lock: dict[str, list[float]] = {rev: [] for rev in revs}  # what binds on SQLite (the lock)
    with tempfile.TemporaryDirectory() as tmp:
        sources = {rev: export_source(rev, Path(tmp) / f"r{i}") for i, rev in enumerate(revs)}
        for round_no in range(args.rounds):
            for rev in revs:
                env = {**os.environ, "PYTHONPATH": str(sources[rev])}
                out = subprocess.run(
                    child, env=env, capture_output=True, text=True, check=True, cwd=os.getcwd()
                )
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                results[rev].append(figures["cpu_ms_median"])
                in_lock[rev].append(figures["write_unit_cpu_ms_mean"])
                print(
                    f"round {round_no + 1} {rev}: {figures['cpu_ms_median']} ms CPU per POST, "
                    f"{figures['write_unit_cpu_ms_mean']} of it in write units "
                    f"(load {figures['load']:.1f}), {figures['statements_per_post']} statements per POST",
                    flush=True,
                )
    for rev, values in results.items():
        print(
            f"{rev}: median of round medians {statistics.median(values):.2f} ms CPU per POST ({values}), "
            f"in write units {statistics.median(in_lock[rev]):.2f} ms ({in_lock[rev]})"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--posts", type=int, default=400)
    p.add_argument("--warmup", type=int, default=40)
    p.add_argument(
        "--mode",
        choices=("new", "same", "repost"),
        default="new",
        help="a new guest per POST, one returning guest, or the measured requests sent once before "
        "(as peers.sh's 64-connection run repeats the 16-connection run's: the copy phase holds them)",
    )
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--model-dir", help="where the classifier models are (default: as the server looks)")
    p.add_argument("--profile", help="write a cProfile of the measured POSTs to this file")
    p.add_argument("--profile-write", help="write a cProfile of their write units only to this file")
    p.add_argument("--steps", action="store_true", help="also time each step of the write path")
    p.add_argument("--compare", help="comma-separated git revisions, measured alternately")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = p.parse_args()
    if args.compare:
        compare(args, args.compare.split(","))
        return
    figures = measure(args)
    if args.json:
        print(json.dumps(figures))
        return
    f = figures
    print(f"{f['posts']} POSTs ({f['mode']} guest, {f['db']}), statuses {f['statuses']}")
    print(f"CPU ms per POST: median {f['cpu_ms_median']}, mean {f['cpu_ms_mean']}, p90 {f['cpu_ms_p90']}")
    print(f"SQL statements per POST (write engine): {figures['statements_per_post']}")
    print(f"CPU ms per POST inside write units (the writers' lock): {figures['write_unit_cpu_ms_mean']}")
    print("moderation phases, median ms:")
    for name, ms in figures["phase_ms_median"].items():
        print(f"  {name:28s} {ms:7.3f}")
    if figures["step_ms_mean"]:
        print("write path steps, mean CPU ms (thread time):")
        for name, ms in figures["step_ms_mean"].items():
            print(f"  {name:40s} {ms:7.3f}")


if __name__ == "__main__":
    main()
