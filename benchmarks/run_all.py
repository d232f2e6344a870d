"""``make bench``: the big-thread benchmarks of issue 7 on SQLite and PostgreSQL, one summary.

What runs (about 30 minutes on the 2-core machine; each step is ``benchmarks/bench_api.py``):

1. SQLite: ``peers.sh`` with Isso and Parley in one run (seeding, whole threads, first pages,
   POSTs, ceilings), the 95/5 mix with SSE subscribers, RSS per worker, raw-ASGI ceilings for
   Parley's own bytes;
2. PostgreSQL: the same for Parley. Isso is measured once per ``make bench``, in step 1 (it does
   not depend on Parley's database), and the PostgreSQL ratios use that Isso run: the same
   machine, a quarter of an hour earlier, load recorded for both. ``ISSO_EACH=1`` measures Isso
   again in step 2 (+8 minutes: its 1,000- and 10,000-comment threads cost it seconds of CPU per
   request, which peers.sh waits out).
3. In each part, two more POST rounds beside Isso on fresh databases (``bench_api.py
   --post-rounds``): the POST ratio is the median of every run's ratio in which Isso posted too.

The other benchmarks (classifiers, import, moderation) are not part of ``make bench``: see
``benchmarks/README.md``. Results land in ``benchmarks/results/`` (``bench-<UTC stamp>.json``);
``--report FILE`` re-prints the summary of an earlier run, ``--markdown`` prints it as the tables
of ``docs/performance.md``.

    .venv/bin/python benchmarks/run_all.py                       # make bench
    .venv/bin/python benchmarks/run_all.py --read-modes          # + event loop vs. thread pool (PG)
    .venv/bin/python benchmarks/run_all.py --report benchmarks/results/bench-....json --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SIZES = (10, 100, 1000, 10000)


def run(args: argparse.Namespace) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{stamp}.json"
    merged: list[dict[str, Any]] = []
    t0 = time.monotonic()
    # both databases run the same commit, even when others commit while the first part runs
    rev = subprocess.run(
        ["git", "-C", str(HERE.parent), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for db in args.db:
        part = RESULTS / f"bench-{stamp}-{db}.tmp"
        env = dict(os.environ)
        if db == "postgresql" and "sqlite" in args.db and not os.environ.get("ISSO_EACH"):
            env["SKIP_ISSO"] = "1"
        cmd = [sys.executable, str(HERE / "bench_api.py"), "--db", db, "--json", str(part), "--src", rev]
        if args.read_modes and db == "postgresql":
            cmd.append("--compare-read-modes")
        print(f"# {time.strftime('%H:%M:%S', time.gmtime())} UTC: {' '.join(cmd)}", flush=True)
        rc = subprocess.run(cmd, env=env, check=False).returncode
        if part.exists():
            merged += json.loads(part.read_text())
            part.unlink()
        if rc != 0:
            print(f"# bench_api.py --db {db} exited {rc}", file=sys.stderr)
        out.write_text(json.dumps(merged, indent=1))
    print(f"# make bench took {(time.monotonic() - t0) / 60:.1f} min; results: {out}", flush=True)
    return out


# ------------------------------------------------------------------------------- summary


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "–" if x is None else format(x, spec)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _mean_rss(mem: dict[str, str] | None) -> float | None:
    if not mem:
        return None
    return float(mem["rss_MB"]) / max(1, int(mem["procs"]))


def summarize(db: dict[str, Any], isso_src: dict[str, Any]) -> dict[str, Any]:
    """Every figure of issue 7's list for one database, and its goals."""
    peers = db.get("peers", {})
    isso_peers = isso_src.get("peers", {})
    ceilings = db.get("ceilings", {})
    s: dict[str, Any] = {"db": db["db"], "isso_from": isso_src["db"] if isso_src is not db else "same run"}
    flat = []
    for size in SIZES:
        for key in sorted(k for k in peers if k.startswith(f"parley/get-full-t{size}/")):
            conns = key.rsplit("/c", 1)[1]
            p = peers[key]
            i = isso_peers.get(f"isso/get-full-t{size}/c{conns}")
            ceil = ceilings.get(f"t{size}/c{conns}", {}).get("rps")
            row = {
                "size": size,
                "conns": int(conns),
                "parley_rps": p["rps"],
                "isso_rps": i["rps"] if i else None,
                "x_isso": _ratio(p["rps"], i["rps"]) if i else None,
                "x_isso_cpu": _ratio(i.get("cpu_ms_per_req"), p.get("cpu_ms_per_req")) if i else None,
                "ceiling_rps": ceil,
                "of_ceiling": _ratio(p["rps"], ceil),
                "p99_ms": p["p99_ms"],
                "kb": p.get("kb_per_response"),
            }
            if size == 1000:
                raw = isso_peers.get(f"uvicorn/raw-asgi-t1000/c{conns}")
                row["of_peers_ceiling"] = _ratio(p["rps"], raw["rps"]) if raw else None
                row["peers_ceiling_rps"] = raw["rps"] if raw else None
            flat.append(row)
    s["flat"] = flat
    s["page"] = [
        {
            "conns": int(k.rsplit("/c", 1)[1]),
            **{f"parley_{m}": peers[k][m] for m in ("rps", "p50_ms", "p99_ms", "errors")},
            "isso_p50_ms": (isso_peers.get(k.replace("parley/", "isso/")) or {}).get("p50_ms"),
            "isso_p99_ms": (isso_peers.get(k.replace("parley/", "isso/")) or {}).get("p99_ms"),
        }
        for k in sorted(peers)
        if k.startswith("parley/get-page-t10000/")
    ]
    posts = []
    rounds = db.get("post_rounds", [])
    for conns in (16, 64):
        p = peers.get(f"parley/post-new/c{conns}")
        if p:
            # Isso of the other database's run only when no round measured it beside this one
            i = isso_peers.get(f"isso/post-new/c{conns}") if isso_src is db or not rounds else None
            posts.append(_post_summary(conns, p, i, rounds))
    s["post"] = posts
    # the full run's, then each round's: comments of the POST workload by status
    s["post_statuses"] = [db.get("post_statuses")] + [r.get("post_statuses") for r in rounds]
    s["mix"] = db.get("mix")
    s["memory"] = {
        "parley_workers_after_peers": [
            m["rss_mb"] for m in db.get("memory_after_peers", []) if m["role"] == "worker"
        ],
        "parley_workers_after_mix": [
            m["rss_mb"] for m in db.get("memory_after_mix", []) if m["role"] == "worker"
        ],
        "parley_total_pss": sum(
            m["pss_mb"] for m in db.get("memory_after_mix", db.get("memory_after_peers", []))
        ),
        "isso_mean_rss_per_process": _mean_rss(isso_peers.get("isso/mem-end")),
    }
    t1000 = next((r for r in flat if r["size"] == 1000 and r["conns"] == 16), None)
    page64 = next((r for r in s["page"] if r["conns"] == 64), None)
    goals = []
    if t1000:
        x = t1000["x_isso"] or None
        basis = "req/s"
        if not x:
            x, basis = t1000["x_isso_cpu"], "server CPU per request (Isso finished no request)"
        goals.append(("view=flat 1,000: ≥ 100× Isso", x, x is not None and x >= 100, basis))
        goals.append(
            ("view=flat 1,000: ≥ 50% of raw-ASGI (Parley's bytes)", t1000["of_ceiling"],
             (t1000["of_ceiling"] or 0) >= 0.5, "req/s")
        )  # fmt: skip
        if t1000.get("of_peers_ceiling") is not None:
            goals.append(
                ("view=flat 1,000: ≥ 50% of raw-ASGI (peers.sh, Isso's bytes)", t1000["of_peers_ceiling"],
                 t1000["of_peers_ceiling"] >= 0.5, "req/s")
            )  # fmt: skip
    if page64:
        goals.append(("first page of 10,000, 64 conns: p99 < 50 ms", page64["parley_p99_ms"],
                      page64["parley_p99_ms"] < 50, "ms"))  # fmt: skip
    for p in posts:
        goals.append((f"POST, {p['conns']} conns: ≥ Isso", p["x_isso"], (p["x_isso"] or 0) >= 1, "req/s"))
    s["goals"] = [{"goal": g, "value": v, "met": m, "basis": b} for g, v, m, b in goals]
    s["load"] = {k: db.get(k) for k in ("uptime_start", "uptime_after_peers", "uptime_end")}
    s["code"] = db.get("code")
    s["started"], s["finished"] = db.get("started"), db.get("finished")
    s["peers_env"] = db.get("peers_env")
    s["read_modes"] = db.get("read_modes")
    return s


def _post_summary(
    conns: int, main: dict[str, Any], isso_main: dict[str, Any] | None, rounds: list[dict[str, Any]]
) -> dict[str, Any]:
    """The POST figures at ``conns``. Each ratio is Parley's req/s over Isso's from one peers.sh run
    (the full run when Isso ran in it, then each POST round); the summary is their median, and every
    ratio is kept (the machine's speed drifts by a third within minutes)."""
    key = f"post-new/c{conns}"
    runs = [(main, isso_main)]
    runs += [(r["peers"].get(f"parley/{key}"), r["peers"].get(f"isso/{key}")) for r in rounds]
    pairs = [(p, i) for p, i in runs if p and i]
    parley = [p for p, _ in pairs] or [main]  # Parley's figures from the same runs as the ratios
    ratios = [x for x in (_ratio(p["rps"], i["rps"]) for p, i in pairs) if x is not None]
    return {
        "conns": conns,
        "parley_rps": _median([p["rps"] for p in parley]),
        "isso_rps": _median([i["rps"] for _, i in pairs]),
        "x_isso": _median(ratios),
        "x_isso_runs": ratios,
        "p99_ms": _median([p["p99_ms"] for p in parley]),
        "errors": sum(p["errors"] for p in parley),
        "cpu_ms": _median([p["cpu_ms_per_req"] for p in parley if p.get("cpu_ms_per_req")]),
        "isso_cpu_ms": _median([i["cpu_ms_per_req"] for _, i in pairs if i.get("cpu_ms_per_req")]),
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summaries(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with_isso = next((r for r in results if any(k.startswith("isso/") for k in r.get("peers", {}))), None)
    out = []
    for r in results:
        own = any(k.startswith("isso/") for k in r.get("peers", {}))
        out.append(summarize(r, r if own or with_isso is None else with_isso))
    return out


def _x(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}×" if v >= 10 else f"{v:.2f}×"


FLAT_HEAD = ["view=flat", "conns", "Parley req/s", "Isso req/s", "× Isso", "× Isso (CPU/req)"]
FLAT_HEAD += ["raw-ASGI req/s (same bytes)", "of ceiling", "p99 ms", "KB"]
PAGE_HEAD = ["first page of 10,000", "conns", "req/s", "p50 ms", "p99 ms", "errors"]
PAGE_HEAD += ["Isso p50 ms", "Isso p99 ms"]
POST_HEAD = ["POST (all phases)", "conns", "Parley req/s", "Isso req/s", "× Isso (median)"]
POST_HEAD += ["× Isso, each run", "p99 ms", "CPU ms/req", "Isso CPU ms/req"]
MIX_HEAD = ["95/5 mix", "conns", "req/s", "p50 ms", "p99 ms", "errors", "SSE readers", "events per reader"]


def flat_row(r: dict[str, Any]) -> list[str]:
    share = f"{r['of_ceiling'] * 100:.1f} %" if r["of_ceiling"] else "–"
    return [
        f"{r['size']:,}",
        str(r["conns"]),
        _fmt(r["parley_rps"]),
        _fmt(r["isso_rps"]),
        _x(r["x_isso"]),
        _x(r["x_isso_cpu"]),
        _fmt(r["ceiling_rps"]),
        share,
        _fmt(r["p99_ms"]),
        _fmt(r["kb"]),
    ]


def page_row(r: dict[str, Any]) -> list[str]:
    return [
        "limit=50 replies=3",
        str(r["conns"]),
        _fmt(r["parley_rps"]),
        _fmt(r["parley_p50_ms"]),
        _fmt(r["parley_p99_ms"]),
        str(r["parley_errors"]),
        _fmt(r["isso_p50_ms"]),
        _fmt(r["isso_p99_ms"]),
    ]


def post_row(r: dict[str, Any]) -> list[str]:
    return [
        "new comment",
        str(r["conns"]),
        _fmt(r["parley_rps"]),
        _fmt(r["isso_rps"]),
        _x(r["x_isso"]),
        " / ".join(_x(x) for x in r.get("x_isso_runs", [])) or "–",
        _fmt(r["p99_ms"]),
        _fmt(r["cpu_ms"]),
        _fmt(r.get("isso_cpu_ms")),
    ]


def mix_row(m: dict[str, Any]) -> list[str]:
    sse = m.get("sse", {})
    return [
        f"page + POST, {m['thread_size']:,}",
        str(m["conns"]),
        _fmt(m["rps"]),
        _fmt(m["p50_ms"]),
        _fmt(m["p99_ms"]),
        str(m["errors"]),
        f"{sse.get('connected')}/{sse.get('subscribers')}",
        f"{sse.get('events_min')}–{sse.get('events_max')} (median {sse.get('events_median')})",
    ]


def goal_row(g: dict[str, Any], markdown: bool) -> list[str]:
    if g["basis"] == "ms":
        value = _fmt(g["value"], ".1f")
    elif "%" in g["goal"]:
        value = _fmt(None if g["value"] is None else g["value"] * 100, ".1f") + " %"
    else:
        value = _x(g["value"])
    verdict = "met" if g["met"] else ("**not met**" if markdown else "NOT MET")
    return [g["goal"], f"{value} ({g['basis']})", verdict]


def post_statuses_line(runs: list[dict[str, int] | None]) -> str:
    """Which share of Parley's POSTs moderation held, per run (both connection counts together)."""
    parts = []
    for statuses in runs:
        if not statuses:
            continue
        total = sum(statuses.values())
        held = total - statuses.get("published", 0)
        parts.append(f"{held:,} of {total:,} ({held / total * 100:.0f} %)")
    if not parts:
        return ""
    return (
        "Parley's POST comments moderation did not publish, each run (both connection counts; the "
        "64-connection run re-posts the 16-connection run's texts, which the copy phase holds): "
        + " / ".join(parts)
    )


def render(sums: list[dict[str, Any]], markdown: bool) -> str:
    lines: list[str] = []

    def table(head: list[str], rows: list[list[str]]) -> None:
        if markdown:
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines.extend("| " + " | ".join(r) + " |" for r in rows)
        else:
            widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
            for r in [head, *rows]:
                lines.append("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=False)))
        lines.append("")

    for s in sums:
        title = f"{s['db']} — code {s['code']}; {s['started']} → {s['finished']}"
        lines += [f"### {title}" if markdown else f"== {title}", ""]
        lines.append(f"Load: start `{s['load']['uptime_start']}`; end `{s['load']['uptime_end']}`")
        lines.append(f"Isso figures: {s['isso_from']}; peers.sh knobs: {s['peers_env']}")
        lines.append("")
        table(FLAT_HEAD, [flat_row(r) for r in s["flat"]])
        for r in s["flat"]:
            if r.get("peers_ceiling_rps"):
                lines.append(
                    f"1,000 comments vs. peers.sh's raw-ASGI ceiling (Isso's bytes, "
                    f"{r['peers_ceiling_rps']} req/s at {r['conns']} conns): "
                    f"{_fmt((r['of_peers_ceiling'] or 0) * 100)} %"
                )
                lines.append("")
        table(PAGE_HEAD, [page_row(r) for r in s["page"]])
        table(POST_HEAD, [post_row(r) for r in s["post"]])
        held = post_statuses_line(s.get("post_statuses") or [])
        if held:
            lines += [held, ""]
        m = s["mix"]
        if m and "rps" in m:
            table(MIX_HEAD, [mix_row(m)])
        mem = s["memory"]
        lines.append(
            f"RSS per Parley worker after peers.sh: {mem['parley_workers_after_peers']} MB, after the mix: "
            f"{mem['parley_workers_after_mix']} MB (all processes, PSS: {mem['parley_total_pss']:.0f} MB); "
            f"Isso: {_fmt(mem['isso_mean_rss_per_process'])} MB per process"
        )
        lines.append("")
        table(["goal (issue 7)", "figure", "met?"], [goal_row(g, markdown) for g in s["goals"]])
        if s.get("read_modes"):
            rm = s["read_modes"]
            if "skipped" in rm:
                lines.append(f"Read modes: {rm['skipped']}")
            else:
                rows = []
                for mode, works in rm.items():
                    for work, runs in works.items():
                        rows.append(
                            [mode, work, " / ".join(_fmt(r.get("rps")) for r in runs),
                             " / ".join(_fmt(r.get("p99_ms")) for r in runs),
                             " / ".join(r.get("load", "") for r in runs)]
                        )  # fmt: skip
                table(["public reads", "workload", "req/s (A/B rounds)", "p99 ms", "load"], rows)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=("sqlite", "postgresql"))
    parser.add_argument("--read-modes", action="store_true", help="PostgreSQL: event loop vs. thread pool")
    parser.add_argument("--report", type=Path, help="summarize an earlier results file, run nothing")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    path = args.report or run(args)
    results = json.loads(path.read_text())
    print(render(summaries(results), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
