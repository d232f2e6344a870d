"""Cache hits while a big thread is rebuilt (issue 7): does one worker's whole-thread build stall
the other readers of that worker?

``parley serve --workers 1`` on a fresh SQLite database with the ``bench`` site, a thread of
``--comments`` comments (written through the services) and a small thread of 20. One reader
fetches the small thread's first page over a keep-alive connection as fast as it can — cache
hits, answered in well under a millisecond — while the main thread, ``--misses`` times, posts a
guest comment to the big thread (a new version: the cache has no answer for it) and reads the
whole big thread (``view=flat``), which is then built from the database. Printed per revision and
round: the reader's latencies (p50 / p99 / max) and the big reads' median time. A build on the
event loop shows in the reader's p99 and max; a build in the thread pool does not.

Revisions are exported with ``git archive`` (``worktree`` is the working tree) and alternated.

    .venv/bin/python benchmarks/bench_loop_stall.py --compare HEAD~1,worktree
    .venv/bin/python benchmarks/bench_loop_stall.py --comments 10000 --misses 10 --rounds 2

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import ParleyServer, alternated, seed, server_env

SMALL = "/api/v1/threads/small/comments?limit=50&replies=3"
BIG = "/api/v1/threads/big/comments?view=flat"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Reader(threading.Thread):
    """Reads ``SMALL`` over one keep-alive connection until stopped; keeps each latency (ms)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            conn.request("GET", SMALL)
            response = conn.getresponse()
            response.read()
            self.latencies.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                raise RuntimeError(f"small page answered {response.status}")
        conn.close()


def call(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, (time.perf_counter() - t0) * 1000


def measure(src: Path | None, tmp: Path, comments: int, misses: int) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'parley.db'}"
    seed(url, tmp, {"big": comments, "small": 20})
    server = ParleyServer(url, tmp, workers=1, env=server_env(src))
    server.start()
    try:
        for path in (SMALL, SMALL, BIG):  # warm: the small page is a cache hit from here on
            status, _ = call(server.port, "GET", path)
            assert status == 200, status
        reader = Reader(server.port)
        reader.start()
        time.sleep(0.5)
        builds = []
        for i in range(misses):
            status, _ = call(
                server.port,
                "POST",
                "/api/v1/threads/big/comments",
                {
                    "body": f"Noch ein Kommentar, Nummer {i}, zum langen Faden.",
                    "author_name": f"Gast {i} {time.time()}",
                },
            )
            assert status == 201, status
            status, ms = call(server.port, "GET", BIG)
            assert status == 200, status
            builds.append(ms)
            time.sleep(0.3)
        reader.stop.set()
        reader.join()
        lat = reader.latencies
        return {
            "reads": len(lat),
            "p50_ms": round(percentile(lat, 0.5), 2),
            "p99_ms": round(percentile(lat, 0.99), 2),
            "max_ms": round(max(lat), 1),
            "build_ms": round(statistics.median(builds), 1),
        }
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", default="HEAD,worktree", help="comma-separated git revisions or 'worktree'")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--comments", type=int, default=10_000)
    p.add_argument("--misses", type=int, default=10)
    args = p.parse_args()
    revs = args.compare.split(",")
    for round_no, rev, src, tmp in alternated(revs, args.rounds, "bench-loop-stall-"):
        r = measure(src, tmp, args.comments, args.misses)
        print(
            f"round {round_no} {rev}: small page p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms over {r['reads']} reads; whole big thread after a write "
            f"{r['build_ms']} ms (median of {args.misses})",
            flush=True,
        )


if __name__ == "__main__":
    main()
