"""Moderation throughput: the whole pipeline on 300-character German comments, one core.

The issue's target: >= 2,000 comments/s with 1,000 banned terms loaded and 100,000 earlier
comments in the copy index. Comments are built from the German words of the seed article and its
comments (so folding, compounds and umlauts are real), about one in ten carries an evasion
(spaced letters, leet, look-alike letters), one in twenty is a near-copy of an earlier one.

    .venv/bin/python benchmarks/bench_moderation.py [--comments 5000] [--indexed 100000] [--terms 1000]

Prints one JSON object. The figure counts ``Pipeline.run`` plus ``do_record_outcome`` (what a POST
costs the engine), JSON and I/O excluded, per second of the process's CPU time (one core; the wall
clock is reported too, and suffers when the machine is shared); ``--cli`` adds ``parley moderate``
end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: numpy must not fan out

from parley.moderation.backends import ModerationBackends
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.copies import CopyEntry, fingerprint
from parley.moderation.normalize import normalize
from parley.moderation.pipeline import Pipeline, default_phases
from parley.moderation.policy import ModerationPolicy
from parley.moderation.services import do_record_outcome
from parley.moderation.types import PhaseRun

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT.parent / "shared" / "fixtures" / "news-article-with-comments.de.txt"
INSULTS = ["Trottel", "Idiot*", "Arschloch", "Lügenpresse", "Volksverräter", "*trottel", "Hurensohn", "Spast"]


def vocabulary() -> list[str]:
    text = FIXTURE.read_text(encoding="utf-8") if FIXTURE.exists() else "Die Waffen werden schweigen."
    words = re.findall(r"[\wÄÖÜäöüß-]+", text)
    return [w for w in words if len(w) > 1 and not w.isdigit()]


def banned_terms(n: int, rng: random.Random) -> list[str]:
    syllables = [
        "ka",
        "lo",
        "mi",
        "ste",
        "run",
        "pel",
        "dor",
        "fix",
        "zau",
        "bre",
        "gno",
        "wut",
        "sch",
        "ach",
    ]
    terms = list(INSULTS)
    while len(terms) < n:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        terms.append(word + ("*" if rng.random() < 0.1 else ""))
    return terms


def comment(words: list[str], rng: random.Random, length: int = 300) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        w = rng.choice(words)
        out.append(w)
        size += len(w) + 1
        if rng.random() < 0.08:
            out[-1] += rng.choice([".", ",", "!", "?"])
    text = " ".join(out)[:length]
    roll = rng.random()
    if roll < 0.03:
        text = text[:200] + " T r o t t e l " + text[200:]
    elif roll < 0.06:
        text = text.replace("Waffen", "W4ff3n").replace("Russland", "Rusѕland")
    elif roll < 0.10:
        text = text[:150] + " k y i v p o s t " + text[150:]
    return text[:length]


def fill_index(stores: ModerationBackends, words: list[str], n: int, rng: random.Random) -> list[str]:
    texts = []
    base = datetime(2026, 3, 13, tzinfo=UTC).timestamp()  # within the default 7-day window
    for i in range(n):
        text = comment(words, rng)
        fp = fingerprint(normalize(text).words)
        assert fp is not None
        stores.copies.add(
            "default", CopyEntry(f"old{i}", f"acct:{i % 20000}", base + i, fp.signature, f"old{i}"), fp.bands
        )
        if i < 2000:
            texts.append(text)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--indexed", type=int, default=100_000)
    parser.add_argument("--terms", type=int, default=1000)
    parser.add_argument("--cli", action="store_true", help="also time `parley moderate` end to end")
    parser.add_argument(
        "--without-classifiers", action="store_true", help="leave out the classifier phases (their own issue)"
    )
    args = parser.parse_args()
    rng = random.Random(20260315)
    words = vocabulary()
    policy = ModerationPolicy.model_validate({"terms": {"banned": banned_terms(args.terms, rng)}})
    stores = ModerationBackends.in_memory()
    t0 = time.perf_counter()
    old = fill_index(stores, words, args.indexed, rng)
    fill_seconds = time.perf_counter() - t0

    texts = []
    for _ in range(args.comments):
        texts.append(
            rng.choice(old).replace(" die ", " jene ", 1) if rng.random() < 0.05 else comment(words, rng)
        )
    phase_seconds: dict[str, float] = {}

    def observe(run: PhaseRun) -> None:
        phase_seconds[run.phase] = phase_seconds.get(run.phase, 0.0) + run.seconds

    skip = "classifier" if args.without_classifiers else "\x00"
    phases = [p for p in default_phases() if not p.name.startswith(skip)]
    pipeline = Pipeline(phases, [observe])
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    contexts = [
        ModerationContext(
            text=t,
            source=t,
            author=AuthorInfo(account_id=rng.randint(1, 50_000), name=""),
            thread=ThreadInfo(id=1, key=f"t{rng.randint(1, 200)}", site_id=1),
            policy=policy,
            now=now + timedelta(seconds=i * 0.2),
            backends=stores,
        )
        for i, t in enumerate(texts)
    ]
    # warm-up on separate texts so the word caches hold typical vocabulary, not these exact comments
    for t in (comment(words, rng) for _ in range(500)):
        pipeline.run(ModerationContext(t, t, AuthorInfo(0, ""), ThreadInfo(1, "w", 1), policy, now))
    verdicts: dict[str, int] = {}
    phase_seconds.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    for i, ctx in enumerate(contexts):
        decision = pipeline.run(ctx)
        do_record_outcome(ctx, decision, comment_id=i)
        verdicts[decision.verdict.value] = verdicts.get(decision.verdict.value, 0) + 1
    wall, seconds = time.perf_counter() - t0, time.process_time() - c0
    result = {
        "comments": args.comments,
        "avg_chars": round(sum(map(len, texts)) / len(texts)),
        "banned_terms": args.terms,
        "indexed_before": args.indexed,
        "index_fill_seconds": round(fill_seconds, 1),
        "cpu_seconds": round(seconds, 3),
        "wall_seconds": round(wall, 3),
        "comments_per_second": round(args.comments / seconds),
        "comments_per_wall_second": round(args.comments / wall),
        "us_per_comment": round(seconds / args.comments * 1e6, 1),
        "phases": len(phases),
        "verdicts": verdicts,
        "phase_us": {k: round(v / args.comments * 1e6, 1) for k, v in phase_seconds.items()},
        "load_average": os.getloadavg()[0],
    }
    if args.cli:
        result["cli_comments_per_second"] = cli_throughput(words, rng)
    print(json.dumps(result))


def cli_throughput(words: list[str], rng: random.Random, n: int = 5000) -> float:
    lines = "".join(
        json.dumps({"id": str(i), "text": comment(words, rng), "author": f"a{i % 500}", "thread": "t"}) + "\n"
        for i in range(n)
    )
    parley = Path(sys.executable).with_name("parley")
    t0 = time.perf_counter()
    subprocess.run([str(parley), "moderate"], input=lines.encode(), capture_output=True, check=True)
    return round(n / (time.perf_counter() - t0))


if __name__ == "__main__":
    main()
