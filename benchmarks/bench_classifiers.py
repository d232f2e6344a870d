"""Classifier speed: load time, and scoring throughput on 300-character German comments, one core.

The issue's targets: each model loads in < 1 s and scores >= 2,000 comments/s on one core, and is
<= 20 MB on disk. Comments are built from real German text (GermEval 2018 test tweets without
their @-mentions, links and ``|LBR|`` when ``$PARLEY_DATA_DIR`` is set, else a fixed German sample)
glued to about 300 characters; one in ten carries an evasion (spaced letters, leet, Cyrillic look-alikes).

    .venv/bin/python benchmarks/bench_classifiers.py [--task offense] [--model-dir DIR] [--comments 5000]

Prints one JSON object: size, cold load time (median of 5), comments/s by CPU time for batches of
256 (``parley model predict``) and of 1 (``score([text])``), and the moderation phases (below).

The comments are glued from a pool of a few thousand tweets and the single-comment run follows the
batch run, so the featurizer's per-word cache (words → n-gram ids) is warm: nearly every word has
been seen, as in a long-running server on common vocabulary. ``single_uncached_per_cpu_second``
empties that cache before each comment — every word new — which bounds the cost from the other side.
The moderation phases:

- ``phase_per_cpu_second``: ``ClassifierPhase.run`` for the task on a fresh context, the engine's
  normalization included (the first phase that needs it computes it);
- ``phase_marginal_per_cpu_second``: the same with ``ctx.normalized`` already computed, which is
  what the classifier phase adds to the pipeline (the term and copy phases normalize first);
- ``all_phases_per_cpu_second``: the four default classifier phases (models from the loader's
  search path; tasks without a model are skipped), normalization included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: numpy must not fan out
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from parley.classifiers import artifact
from parley.classifiers.data import load_germeval2018
from parley.classifiers.loader import MODEL_DIR_ENV, find_model
from parley.classifiers.tasks import Task
from parley.classifiers.text import clean
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.phases.classifier import ClassifierPhase, classifier_phases
from parley.moderation.policy import ModerationPolicy

SAMPLE = (
    "Die Regierung hat heute neue Zahlen zur Arbeitslosigkeit vorgelegt. Viele Leser fragen sich, "
    "warum die Preise für Energie weiter steigen, während die Löhne kaum wachsen. Ich finde die "
    "Debatte im Bundestag war sachlich, aber manche Abgeordnete reden nur Unsinn und lügen dreist."
)


def source_texts() -> list[str]:
    """German sentences; the tweets' @-mentions, links and |LBR| are removed so they read like news
    comments (which have none; a text that has them takes the slower path of a second folding)."""
    root = os.environ.get("PARLEY_DATA_DIR")
    if root and (Path(root) / "germeval2018").is_dir():
        tweets = load_germeval2018(Path(root), "test").texts
        return [" ".join(clean(t, "strip").split()) for t in tweets]
    return [s.strip() + "." for s in SAMPLE.split(".") if s.strip()]


def evade(text: str, rng: random.Random) -> str:
    words = text.split()
    i = rng.randrange(len(words))
    w = words[i]
    choice = rng.randrange(3)
    if choice == 0:
        words[i] = " ".join(w)
    elif choice == 1:
        words[i] = w.replace("e", "3").replace("o", "0")
    else:
        words[i] = w.replace("o", "\u043e").replace("e", "\u0435")
    return " ".join(words)


def comments(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    pool = source_texts()
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 300:
            parts.append(rng.choice(pool))
        text = " ".join(parts)[:300]
        out.append(evade(text, rng) if rng.random() < 0.1 else text)
    return out


def cpu_rate(fn: object, n: int) -> tuple[float, float]:
    assert callable(fn)
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return n / max(time.process_time() - c0, 1e-9), n / max(time.perf_counter() - w0, 1e-9)


def contexts(texts: list[str], policy: ModerationPolicy) -> list[ModerationContext]:
    return [
        ModerationContext(
            text=t,
            source=t,
            author=AuthorInfo(account_id=1, name="a"),
            thread=ThreadInfo(id=1, key="t", site_id=1),
            policy=policy,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for t in texts
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="offense")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--comments", type=int, default=5000)
    args = ap.parse_args()
    task = Task(args.task)
    directory = find_model(task, args.model_dir)
    header, arrays = artifact.paths_for(directory, task)
    loads = []
    for _ in range(5):
        t0 = time.perf_counter()
        model = artifact.load(directory, task)
        loads.append(time.perf_counter() - t0)
    texts = comments(args.comments)
    model.score(texts[:200])  # warm the per-word caches as a running server would be
    batch_cpu, batch_wall = cpu_rate(
        lambda: [model.score(texts[i : i + 256]) for i in range(0, len(texts), 256)], len(texts)
    )
    single = texts[: min(len(texts), 2000)]
    one_cpu, one_wall = cpu_rate(lambda: [model.score([t]) for t in single], len(single))

    def one_uncached() -> None:
        for t in single:  # every word new: the per-word cache is emptied before each comment
            model.featurizer._word_cache.clear()
            model.score([t])

    uncached_cpu, _ = cpu_rate(one_uncached, len(single))
    phase = ClassifierPhase(task, factory=lambda t: model)
    policy = ModerationPolicy()
    # the measured task switched on (engagement is off on a new site: its phase would do nothing)
    settings = policy.classifier.for_task(task).model_copy(update={"enabled": True})
    task_policy = policy.model_copy(
        update={"classifier": policy.classifier.model_copy(update={task.value: settings})}
    )
    ctxs = contexts(single, task_policy)
    phase_cpu, _ = cpu_rate(lambda: [phase.run(c) for c in ctxs], len(ctxs))
    fresh = contexts(single, task_policy)
    for c in fresh:
        _ = c.normalized
    marginal_cpu, _ = cpu_rate(lambda: [phase.run(c) for c in fresh], len(fresh))
    if args.model_dir is not None:  # the phases load through the loader: look there first
        os.environ[MODEL_DIR_ENV] = str(args.model_dir)
    phases = classifier_phases()
    for c in contexts(texts, policy):  # warm every model's word cache, as a running server would be
        for p in phases:
            p.run(c)
    fresh = contexts(single, policy)
    all_cpu, _ = cpu_rate(lambda: [[p.run(c) for p in phases] for c in fresh], len(fresh))
    active = [p.name for p in phases if p.run(fresh[0]).model_version]
    print(
        json.dumps(
            {
                "task": task.value,
                "model_version": model.version,
                "model_dir": str(directory),
                "size_bytes": header.stat().st_size + arrays.stat().st_size,
                "load_seconds_median": round(statistics.median(loads), 3),
                "comments": len(texts),
                "mean_chars": round(sum(map(len, texts)) / len(texts)),
                "batch256_per_cpu_second": round(batch_cpu),
                "batch256_per_wall_second": round(batch_wall),
                "single_per_cpu_second": round(one_cpu),
                "single_per_wall_second": round(one_wall),
                "single_uncached_per_cpu_second": round(uncached_cpu),
                "phase_per_cpu_second": round(phase_cpu),
                "phase_marginal_per_cpu_second": round(marginal_cpu),
                "all_phases_per_cpu_second": round(all_cpu),
                "all_phases_with_a_model": active,
                "load_average": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
