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

Also printed, per run, where the CPU went (``/proc``, each process with its descendants): each
instance, nginx, Redis and PostgreSQL — milliseconds per request and share of a core. An instance
has one worker, one process, so it cannot use more than one core; when the one-instance run keeps
it near a full core, the instance is what bounds it, and the two-instance rate on a machine where
each instance has a core of its own (nginx, Redis and PostgreSQL elsewhere) is projected as the sum
of each instance's core divided by its CPU per request — a model from measured inputs, printed
beside the measured ratio, never instead of it.

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
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import BENCH, ROOT, cpu_ms, seed, wrk
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
    projected: dict[str, list[float]] = {v: [] for v in VIEWS}
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
        groups = process_groups(state)
        instance_ports = [ports["one"], ports["one"] + 1]  # cluster.sh: APP_PORT, APP_PORT + 1
        for round_no in range(args.rounds):
            for view, tpl in VIEWS.items():
                spent: dict[str, dict[str, float]] = {}
                for setup in ("one", "two"):
                    target = f"http://127.0.0.1:{ports[setup]}" + tpl.format(thread=thread) + "&site=bench"
                    before = {name: sum(cpu_ms(pid)) for name, pid in groups.items()}
                    served = [reads_served(port) for port in instance_ports]
                    r: dict[str, Any] = wrk(target, args.conns, args.seconds, BENCH / "report.lua")
                    after = {name: sum(cpu_ms(pid)) for name, pid in groups.items()}
                    served = [reads_served(port) - n for port, n in zip(instance_ports, served, strict=True)]
                    if "rps" not in r:
                        raise SystemExit(f"wrk failed: {r}")
                    results[view][setup].append(r["rps"])
                    wall_ms = r["requests"] / r["rps"] * 1000
                    spent[setup] = {name: after[name] - before[name] for name in groups}
                    where = (
                        ", ".join(
                            f"{name} {ms / r['requests']:.2f} ms/req ({ms / wall_ms:.0%} of a core)"
                            for name, ms in spent[setup].items()
                        )
                        + f"; reads per instance {served}"
                    )
                    print(
                        f"round {round_no + 1} {view:10s} {setup} instance(s): {r['rps']} req/s, "
                        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}; CPU: {where}",
                        flush=True,
                    )
                    for i, n in enumerate(served, 1):
                        spent[setup][f"instance {i} reads"] = n
                projected[view].append(projection(spent))
    finally:
        subprocess.run(
            [str(ROOT / "scripts" / "cluster.sh"), "stop"], env=env, capture_output=True, check=False
        )
        shutil.rmtree(state, ignore_errors=True)
    print(f"cores: {os.cpu_count()}, load average now {os.getloadavg()[0]:.1f}")
    for view, by in results.items():
        one, two = statistics.median(by["one"]), statistics.median(by["two"])
        print(
            f"{view}: one instance {one:.0f} req/s, two behind nginx {two:.0f} req/s: {two / one:.2f}x "
            f"measured; {statistics.median(projected[view]):.2f}x projected with a core per instance "
            f"(rounds: {', '.join(f'{x:.2f}' for x in projected[view])})"
        )


def process_groups(state: Path) -> dict[str, int]:
    """The cluster's processes by role: pid of each instance's supervisor, nginx's master,
    Redis, PostgreSQL's postmaster (each counted with its descendants)."""
    run = state / "run"
    groups = {}
    instances = sorted(run.glob("parley-*.pid"), key=lambda f: int(f.stem.split("-")[1]))
    for i, pidfile in enumerate(instances, 1):
        groups[f"instance {i}"] = int(pidfile.read_text().split()[0])
    for name in ("nginx", "redis"):
        pidfile = run / f"{name}.pid"
        if pidfile.exists():
            groups[name] = int(pidfile.read_text().split()[0])
    postmaster = state / "pg" / "data" / "postmaster.pid"
    if postmaster.exists():
        groups["postgresql"] = int(postmaster.read_text().split()[0])
    return groups


def reads_served(port: int) -> float:
    """The thread reads an instance has answered so far (its ``/metrics``, one worker per instance)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("parley_http_requests_total{") and 'method="GET"' in line and "/comments" in line
    )


def projection(spent: dict[str, dict[str, float]]) -> float:
    """Two instances' rate with a core each against one instance's, from the CPU each spent per
    read it served (its ``/metrics``): each instance's core (1,000 ms a second) over its own CPU
    per read, against the one instance's."""
    one, two = spent["one"], spent["two"]
    if not all(x[f"instance {i} reads"] and x[f"instance {i}"] for x, i in ((one, 1), (two, 1), (two, 2))):
        return float("nan")  # an instance served nothing (or used no measurable CPU)
    alone = 1000 / (one["instance 1"] / one["instance 1 reads"])
    together = sum(1000 / (two[f"instance {i}"] / two[f"instance {i} reads"]) for i in (1, 2))
    return together / alone


if __name__ == "__main__":
    main()
