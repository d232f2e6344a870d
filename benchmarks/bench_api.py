"""Parley against Isso, in one run of ``../shared/bench/peers.sh``: whole threads, first pages, POSTs.

Starts Parley (``parley serve``, one worker per core like peers.sh gives Isso) on a fresh database
(SQLite, or a private PostgreSQL from ``tests/support/servers.py``), with request rate limits off
for the run (so seeding 11,110 comments from one address is not refused), then runs peers.sh with
Parley as the target and prints its table plus the ratios the server-core issue asks for:

- ``view=flat`` of a 1,000-comment thread: Parley req/s ÷ Isso req/s (goal ≥ 50);
- first page (``limit=50&replies=3``) of a 10,000-comment thread at 16 connections: p99 (goal < 50 ms);
- POST req/s ÷ Isso's (goal ≥ 1).

No response cache is involved (there is none in the server core). Not part of the test suite.

    .venv/bin/python benchmarks/bench_api.py --db sqlite
    .venv/bin/python benchmarks/bench_api.py --db postgresql
    SKIP_ISSO=1 SIZES="1000 10000" .venv/bin/python benchmarks/bench_api.py --db sqlite   # Parley only

Environment variables other than ours pass through to peers.sh (DURATION, CONNS, SIZES, SKIP_ISSO ...).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "bench" / "peers.sh"
sys.path.insert(0, str(ROOT / "tests"))

from support.servers import ParleyServer, PostgresServer  # noqa: E402

GET_TPL = "/api/v1/threads/{thread}/comments?view=flat"
POST_TPL = "/api/v1/threads/{thread}/comments"
BODY_TPL = (
    '{"body": "{text}", "author_name": "{author}", "email": "{email}", '
    '"title": "{title}", "parent_id": {parent}}'
)
PAGE_TPL = "/api/v1/threads/{thread}/comments?limit=50&replies=3"


# Every phase of the pipeline runs, as on any site, with two changes: the per-author and per-address
# rate limits are off (one seeding client posts 11,110 comments), and the text classifiers score
# every comment but hold none, so every seeded comment is published like Isso's (moderation off)
# and the threads have the same size on both sides (replies to a held comment would be refused).
BENCH_MODERATION = {
    "rate": {"enabled": False},
    "classifier": {task: {"hold": False} for task in ("offense", "toxic", "fact_claim", "engaging")},
}


def prepare(database_url: str, data_dir: Path) -> None:
    """Migrate and create the ``bench`` site: guests allowed, threads created on first comment."""
    from parley.clock import SystemClock
    from parley.db import migrate
    from parley.db.database import Database
    from parley.sites.services import do_create_site
    from support.apps import settings_for

    settings = settings_for(database_url, data_dir)
    migrate.upgrade(settings)
    db = Database(settings)
    try:
        with db.write() as s:
            do_create_site(
                s,
                slug="bench",
                name="Benchmark",
                now=SystemClock().now(),
                settings={"moderation": BENCH_MODERATION},
            )
    finally:
        db.dispose()


def peers_command(server: ParleyServer, pid: int) -> list[str]:
    return [
        "bash",
        str(PEERS),
        "--target",
        "parley",
        server.url,
        GET_TPL,
        POST_TPL,
        BODY_TPL,
        "--page-url",
        PAGE_TPL,
        "--id-field",
        "comment.id",
        "--target-pid",
        str(pid),
    ]


def ratios(lines: list[str]) -> list[str]:
    """The issue's three goals from peers.sh's table: throughput ratios, and where Isso finished no
    request within the run (a 1,000-comment thread costs it seconds of CPU), the ratio of server
    CPU per request instead."""
    rows: dict[tuple[str, str, str], tuple[float, float, float | None]] = {}
    for line in lines:
        f = line.split()
        if len(f) >= 9:
            try:
                cpu = float(f[7]) if f[7] != "-" else None
                rows[(f[0], f[1], f[2])] = (float(f[3]), float(f[5]), cpu)
            except ValueError:
                continue
    out = []

    def ratio(workload: str, conns: str, goal: str) -> None:
        p, i = rows.get(("parley", workload, conns)), rows.get(("isso", workload, conns))
        if not p or not i:
            return
        if i[0] > 0:
            out.append(f"{workload} c{conns}: parley/isso req/s = {p[0] / i[0]:.1f}x  ({goal})")
        if p[2] and i[2]:
            out.append(f"{workload} c{conns}: isso/parley server CPU per request = {i[2] / p[2]:.1f}x")

    ratio("get-full-t1000", "16", "goal >= 50x")
    for c in ("16", "64"):
        ratio("post-new", c, "goal >= 1x")
    page = rows.get(("parley", "get-page-t10000", "16"))
    if page:
        out.append(f"get-page-t10000 c16: parley p99 = {page[1]:.1f} ms  (goal < 50 ms)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parley serve --workers")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    pg: PostgresServer | None = None
    if args.db == "postgresql":
        pg = PostgresServer().start()
        pg.psql("CREATE DATABASE parley_bench")
        url = pg.url("parley_bench")
    else:
        url = f"sqlite:///{tmp / 'parley.db'}"
    server = ParleyServer(
        url,
        tmp,
        workers=args.workers,
        env={
            "PARLEY_DEFAULT_SITE": "bench",
            "PARLEY_RATE_LIMITS_ENABLED": "false",
            "PARLEY_LOG_LEVEL": "WARNING",
        },
    )
    try:
        prepare(url, tmp)
        server.start()
        assert server.proc is not None
        cmd = peers_command(server, server.proc.pid)
        print("# " + " ".join(shlex.quote(c) for c in cmd), flush=True)
        lines: list[str] = []
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line)
        for line in ratios(lines):
            print("# " + line)
        return proc.returncode
    finally:
        server.stop()
        if pg is not None:
            pg.cleanup()


if __name__ == "__main__":
    sys.exit(main())
