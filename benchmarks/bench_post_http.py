"""POST throughput over HTTP, revisions against each other (issue 7): ``parley serve --workers 2``
on a fresh SQLite database (``--db postgresql``: a private PostgreSQL server, started per round)
set up as ``make bench`` sets it up (``bench_api.prepare``: the ``bench`` site, every moderation
phase on), then peers.sh's POST workload: ``seed.py postfile`` creates 20 threads and writes the
request file, ``wrk`` with ``report.lua`` posts it at 16 connections.

Printed per revision and round: requests/s, p50 / p99, and the server's CPU milliseconds per POST
(all its processes, from ``/proc``); on SQLite also the writers' lock as one worker's ``/metrics``
tells it (``bench_api.writers_lock``: ms per unit and per transaction, since the worker started).
Revisions are exported with ``git archive`` (``worktree`` is
the working tree) and alternated, so the machine's load falls on all of them alike. Isso is not run
here: ``make bench`` measures the ratio to Isso in one run; this script compares Parley with itself.

    .venv/bin/python benchmarks/bench_post_http.py --compare HEAD,worktree --rounds 2
    .venv/bin/python benchmarks/bench_post_http.py --compare HEAD~3,HEAD --conns 64 --seconds 8
    .venv/bin/python benchmarks/bench_post_http.py --compare HEAD~3,HEAD --db postgresql
    .venv/bin/python benchmarks/bench_post_http.py --compare worktree --setting 'write_turns=0|2|8'
    .venv/bin/python benchmarks/bench_post_http.py --compare 339895e,HEAD --rate-on   # rate limits on

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import (
    BENCH,
    BODY_TPL,
    POST_TPL,
    alternated,
    clean_up,
    cpu_ms,
    in_turn,
    serve_fresh,
    wait_idle,
    writers_lock,
    wrk,
)


def measure(
    src: Path | None,
    tmp: Path,
    conns: int,
    seconds: float,
    workers: int,
    db: str = "sqlite",
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    _, pg, server = serve_fresh(db, tmp, src, workers, settings)
    try:
        assert server.proc is not None
        pid = server.proc.pid
        reqs = tmp / "post.req"
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "seed.py"),
                "postfile",
                "--base",
                server.url,
                "--post-url",
                POST_TPL,
                "--body",
                BODY_TPL,
                "--prefix",
                f"ab-{int(time.time())}",
                "--count",
                "20000",
                "--out",
                str(reqs),
            ],
            check=True,
            capture_output=True,
        )
        wait_idle(pid)
        # PostgreSQL's backends run on the same cores: their CPU per POST is counted apart
        pg_pid = int((pg.data / "postmaster.pid").read_text().split()[0]) if pg is not None else None
        cpu0 = cpu_ms(pid)
        db0 = sum(cpu_ms(pg_pid)) if pg_pid else 0
        result = wrk(server.url + "/", conns, seconds, BENCH / "report.lua", str(reqs))
        wait_idle(pid)
        cpu1 = cpu_ms(pid)
        if result.get("requests"):
            user, system = (cpu1[i] - cpu0[i] for i in (0, 1))
            result["cpu_ms_per_post"] = round((user + system) / result["requests"], 2)
            result["sys_share"] = round(system / max(1, user + system), 2)
            if pg_pid:
                result["db_cpu_ms_per_post"] = round((sum(cpu_ms(pg_pid)) - db0) / result["requests"], 2)
        if db == "sqlite":
            result["lock"] = writers_lock(server.port)
        return result
    finally:
        clean_up(server, pg, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    variant_arguments(p)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument(
        "--rate-on",
        action="store_true",
        help="the site's rate limits on: every default rule, limits nobody reaches (bench_api.BENCH_RATE_ON)",
    )
    args = p.parse_args()
    if args.rate_on:
        os.environ["BENCH_RATE_ON"] = "1"  # read by bench_api.prepare, in the child that sets the site up
    rates: dict[str, list[float]] = {}
    for round_no, name, src, data_dir, settings in variant_runs(args, "bench-post-http-"):
        r = measure(src, data_dir, args.conns, args.seconds, args.workers, args.db, settings)
        if "rps" not in r:
            print(f"round {round_no} {name}: wrk failed: {r}", flush=True)
            continue
        rates.setdefault(name, []).append(r["rps"])
        print(
            f"round {round_no} {name}: {r['rps']} req/s, "
            f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"{r.get('cpu_ms_per_post')} ms server CPU per POST ({r.get('sys_share')} of it system), "
            + (f"PostgreSQL {r['db_cpu_ms_per_post']} ms, " if "db_cpu_ms_per_post" in r else "")
            + f"errors {r['errors']}",
            flush=True,
        )
        if r.get("lock"):
            print(f"  writers' lock, one worker: {r['lock']}", flush=True)
    for name, values in rates.items():
        print(f"{name}: median {statistics.median(values):.1f} req/s over {len(values)} rounds ({values})")


def variant_arguments(p: argparse.ArgumentParser) -> None:
    """What :func:`variant_runs` reads: ``--compare``, ``--rounds``, ``--setting``; and the server's
    ``--workers`` and ``--db``."""
    p.add_argument("--compare", default="HEAD,worktree", help="comma-separated git revisions or 'worktree'")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE[|VALUE…]",
        help="a server setting (PARLEY_NAME); with several values separated by '|', each value is a "
        "variant of every revision, alternated like the revisions (repeatable)",
    )


def variant_runs(
    args: argparse.Namespace, prefix: str
) -> Iterator[tuple[int, str, Path | None, Path, dict[str, str]]]:
    """``(round, name, src, data directory, PARLEY_* settings)`` for every revision of
    ``args.compare`` and every variant of ``args.setting`` in every one of ``args.rounds``,
    revisions and variants alternated A B, B A (:func:`bench_api.alternated`)."""
    variants = settings_variants(args.setting)
    for round_no, rev, src, tmp in alternated(args.compare.split(","), args.rounds, prefix):
        for i, (label, settings) in in_turn(list(enumerate(variants)), round_no - 1):
            data_dir = tmp / f"variant{i}"
            data_dir.mkdir()
            yield round_no, f"{rev} {label}".strip(), src, data_dir, settings


def settings_variants(given: list[str]) -> list[tuple[str, dict[str, str]]]:
    """``--setting`` values as (label, ``PARLEY_*`` variables): one variant per combination of the
    values given with ``|``; a single variant with no label when none has several."""
    variants: list[tuple[str, dict[str, str]]] = [("", {})]
    for item in given:
        name, _, values = item.partition("=")
        if not name or not values:
            raise SystemExit(f"--setting {item!r}: expected NAME=VALUE")
        env = "PARLEY_" + name.upper()
        options = values.split("|")
        variants = [
            ((f"{label} {name}={v}" if len(options) > 1 else label).strip(), {**base, env: v})
            for label, base in variants
            for v in options
        ]
    return variants


if __name__ == "__main__":
    main()
