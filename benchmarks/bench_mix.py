"""The 95/5 read/write mix of ``make bench``, alone and revisions against each other (issue 7).

Per revision and round: ``parley serve --workers 2`` on a fresh database (SQLite, or with
``--db postgresql`` a private PostgreSQL server) set up as ``make bench`` sets it up
(``bench_api.serve_fresh``: the ``bench`` site, every moderation phase on), one thread seeded with
``--comments`` comments through the API (``../shared/bench/seed.py seed``, 30 % replies), then
``--sse`` Server-Sent-Events readers on that thread and ``wrk`` with ``mix.lua`` at ``--conns``
connections: first pages (``limit=50&replies=3``) and, one request in twenty, a new comment
(``bench_api.mix_file``). Every write makes the first page stale, so the readers after it miss the
cache: the mix measures how misses, POSTs and cache hits share a worker.

Printed: requests/s, p50 / p99 (all requests), errors, the server's CPU ms per request, and how
many of the POSTs' live events every SSE reader received. Revisions (``worktree`` = the working
tree) and ``--setting`` variants are alternated A B, B A, … as in ``bench_post_http.py``.

    .venv/bin/python benchmarks/bench_mix.py --compare HEAD~1,worktree --db postgresql --rounds 2
    .venv/bin/python benchmarks/bench_mix.py --compare worktree --setting 'write_turns=0|2'

The thread has 2,000 comments by default (``make bench`` mixes on its 10,000-comment thread; a
first page costs the same either way, keyset pagination, and seeding takes a fifth of the time).
``--threads N`` spreads the comments, the reads and the writes over N threads in turn — a site with
many articles read at once, where one thread's rebuild after a write can hold up readers of the
others (the SSE readers then hear the first thread's share of the events).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import (
    BENCH,
    BODY_TPL,
    MIX_LUA,
    PAGE_TPL,
    POST_TPL,
    Subscribers,
    clean_up,
    cpu_ms,
    fetch,
    mix_file,
    serve_fresh,
    wait_idle,
    wrk,
)
from bench_post_http import variant_arguments, variant_runs


def seed_thread(url: str, tmp: Path, comments: int, prefix: str = "mix", seed: int = 1) -> str:
    """One thread of ``comments`` comments, posted through the API; its key. Threads seeded with
    the same ``seed`` get the same texts — which the copy phase holds as copies."""
    threads = tmp / f"{prefix}.json"
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "seed.py"),
            "seed",
            "--base",
            url,
            "--post-url",
            POST_TPL,
            "--get-url",
            PAGE_TPL,
            "--body",
            BODY_TPL,
            "--id-field",
            "comment.id",
            "--prefix",
            prefix,
            "--seed",
            str(seed),
            "--sizes",
            str(comments),
            "--map",
            str(threads),
        ],
        check=True,
        capture_output=True,
    )
    return str(json.loads(threads.read_text())[str(comments)])


def measure(
    src: Path | None, tmp: Path, args: argparse.Namespace, settings: dict[str, str]
) -> dict[str, Any]:
    import seed  # ../shared/bench/seed.py (bench_api put it on the path)

    _, pg, server = serve_fresh(args.db, tmp, src, args.workers, settings)
    try:
        assert server.proc is not None
        pid = server.proc.pid
        per_thread = max(1, args.comments // args.threads)
        keys = [seed_thread(server.url, tmp, per_thread, f"mix{i}", seed=i + 1) for i in range(args.threads)]
        reqs = tmp / "mix.req"
        mix_file(reqs, keys, 20000, 0.05)
        wait_idle(pid)
        thread = keys[0]  # the SSE readers listen to the first thread
        subs = Subscribers(server.port, seed.render_url("/api/v1/threads/{thread}/events", thread), args.sse)
        subs.start()
        for key in keys:
            fetch(server.port, seed.render_url(PAGE_TPL, key))
        cpu0 = cpu_ms(pid)
        result = wrk(server.url + "/", args.conns, args.seconds, MIX_LUA, str(reqs))
        cpu1 = cpu_ms(pid)
        result["sse"] = subs.stop()
        if result.get("requests"):
            result["cpu_ms_per_request"] = round(sum(cpu1) - sum(cpu0), 0) / result["requests"]
        return result
    finally:
        clean_up(server, pg, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    variant_arguments(p)
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--sse", type=int, default=50, help="SSE readers of the thread during the mix")
    p.add_argument("--comments", type=int, default=2000, help="comments seeded, spread over the threads")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads read and written in turn (a site's many articles; the SSE readers listen to the first)",
    )
    args = p.parse_args()
    rates: dict[str, list[float]] = {}
    tails: dict[str, list[float]] = {}
    for round_no, name, src, data_dir, settings in variant_runs(args, "bench-mix-"):
        r = measure(src, data_dir, args, settings)
        if "rps" not in r:
            print(f"round {round_no} {name}: wrk failed: {r}", flush=True)
            continue
        rates.setdefault(name, []).append(r["rps"])
        tails.setdefault(name, []).append(r["p99_ms"])
        print(
            f"round {round_no} {name}: {r['rps']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"errors {r['errors']}, {r.get('cpu_ms_per_request', 0):.2f} ms server CPU per request, "
            f"SSE {json.dumps(r['sse'])}",
            flush=True,
        )
    for name, values in rates.items():
        print(
            f"{name}: median {statistics.median(values):.1f} req/s, p99 median "
            f"{statistics.median(tails[name]):.0f} ms over {len(values)} rounds ({values}, p99 {tails[name]})"
        )


if __name__ == "__main__":
    main()
