"""Two instances against one (issue 7): reads through ``scripts/cluster.sh``'s setup.

``scripts/cluster.sh start`` with two ``parley serve`` instances of one worker each on a private
PostgreSQL and Redis, nginx in front on one port. The ``bench`` site (every moderation phase, as
``make bench``) gets a thread of ``--comments`` comments (written through the services, not the
API), then, alternated for ``--rounds`` rounds, ``wrk`` reads at ``--conns`` connections:

- *one instance*: straight at the first instance's port (the second one idles);
- *two instances*: at nginx's port, which spreads the connections over both.

Measured for the first page (``limit=50&replies=3``) and the whole thread (``view=flat``). The
two-instance figure pays for nginx's proxying, the one-instance figure does not, so the ratio
is, if anything, low. Printed: req/s of each, the ratio, and the machine's cores (on 2 cores, wrk,
nginx and both instances share them).

    .venv/bin/python benchmarks/bench_instances.py
    .venv/bin/python benchmarks/bench_instances.py --comments 1000 --rounds 3 --seconds 8

Not part of the test suite; needs PostgreSQL, redis-server and nginx (``scripts/system-deps.sh``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import BENCH, ROOT, seed, wrk
from support.servers import cluster_env  # bench_api puts tests/ on the path

VIEWS = {
    "first page": "/api/v1/threads/{thread}/comments?limit=50&replies=3",
    "view=flat": "/api/v1/threads/{thread}/comments?view=flat",
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--comments", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--conns", type=int, default=64)
    args = p.parse_args()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        raise SystemExit("nginx is not installed: scripts/system-deps.sh")
    # not under a private tmp: as root, PostgreSQL runs as ``postgres``, which must reach it
    state = Path(tempfile.mkdtemp(prefix="parley-instances-"))
    state.chmod(0o755)
    env = cluster_env(
        state,
        PARLEY_CLUSTER_INSTANCES="2",
        PARLEY_CLUSTER_WORKERS="1",
        PARLEY_DEFAULT_SITE="bench",
        PARLEY_RATE_LIMITS_ENABLED="false",
        PARLEY_LOG_LEVEL="WARNING",
    )

    def script(*a: str) -> None:
        done = subprocess.run(
            [str(ROOT / "scripts" / "cluster.sh"), *a], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"cluster.sh {' '.join(a)} failed:\n{done.stdout}{done.stderr}")

    results: dict[str, dict[str, list[float]]] = {v: {"one": [], "two": []} for v in VIEWS}
    try:
        script("start")
        url = next(
            line.partition("=")[2]
            for line in (state / "env").read_text().splitlines()
            if "DATABASE_URL" in line
        )
        thread = "instances"
        seed(url, state / "seed", {thread: args.comments})
        ports = {"one": int(env["PARLEY_CLUSTER_APP_PORT"]), "two": int(env["PARLEY_CLUSTER_PORT"])}
        for round_no in range(args.rounds):
            for view, tpl in VIEWS.items():
                for setup in ("one", "two"):
                    target = f"http://127.0.0.1:{ports[setup]}" + tpl.format(thread=thread) + "&site=bench"
                    r: dict[str, Any] = wrk(target, args.conns, args.seconds, BENCH / "report.lua")
                    if "rps" not in r:
                        raise SystemExit(f"wrk failed: {r}")
                    results[view][setup].append(r["rps"])
                    print(
                        f"round {round_no + 1} {view:10s} {setup} instance(s): {r['rps']} req/s, "
                        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}",
                        flush=True,
                    )
    finally:
        subprocess.run(
            [str(ROOT / "scripts" / "cluster.sh"), "stop"], env=env, capture_output=True, check=False
        )
        shutil.rmtree(state, ignore_errors=True)
    print(f"cores: {os.cpu_count()}, load average now {os.getloadavg()[0]:.1f}")
    for view, by in results.items():
        one, two = statistics.median(by["one"]), statistics.median(by["two"])
        print(f"{view}: one instance {one:.0f} req/s, two behind nginx {two:.0f} req/s: {two / one:.2f}x")


if __name__ == "__main__":
    main()
