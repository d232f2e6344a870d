"""Evaluation measures, with GermEval's official one first.

GermEval 2018 and 2021 rank systems by the F1 of *macro-averaged* precision and recall:
``2·P_macro·R_macro / (P_macro + R_macro)`` — not the mean of the per-class F1 scores (that is
OffensEval's macro-F1, also reported here for OLID). Values are percentages (0-100) like the
shared tasks' tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    """Everything ``parley model eval`` prints, in percent."""

    official: float
    """GermEval: F1 of macro-averaged precision and recall."""
    macro_f1: float
    """OffensEval: mean of the per-class F1 scores."""
    accuracy: float
    per_class: dict[int, ClassScores]
    confusion: list[list[int]]
    """``confusion[gold][predicted]`` for labels 0 and 1."""
    threshold: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return {
            "official_f1_macro_pr": round(self.official, 2),
            "macro_f1": round(self.macro_f1, 2),
            "accuracy": round(self.accuracy, 2),
            "per_class": {
                str(k): {
                    "precision": round(v.precision, 2),
                    "recall": round(v.recall, 2),
                    "f1": round(v.f1, 2),
                    "support": v.support,
                }
                for k, v in self.per_class.items()
            },
            "confusion": self.confusion,
            "threshold": round(self.threshold, 4),
            "n": self.n,
        }


def _prf(gold: np.ndarray[Any, Any], pred: np.ndarray[Any, Any], label: int) -> ClassScores:
    tp = int(((pred == label) & (gold == label)).sum())
    predicted = int((pred == label).sum())
    actual = int((gold == label).sum())
    p = tp / predicted if predicted else 0.0
    r = tp / actual if actual else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return ClassScores(100 * p, 100 * r, 100 * f, actual)


def germeval_f1(gold: Sequence[int] | npt.NDArray[Any], pred: Sequence[int] | npt.NDArray[Any]) -> float:
    """The official GermEval metric in percent: F1 of macro-averaged precision and recall."""
    g = np.asarray(gold)
    p = np.asarray(pred)
    scores = [_prf(g, p, c) for c in (0, 1)]
    pm = sum(s.precision for s in scores) / 2
    rm = sum(s.recall for s in scores) / 2
    return 2 * pm * rm / (pm + rm) if pm + rm else 0.0


def evaluate_labels(gold: Sequence[int], pred: Sequence[int], threshold: float = 0.5) -> EvalReport:
    g = np.asarray(gold)
    p = np.asarray(pred)
    per = {c: _prf(g, p, c) for c in (0, 1)}
    confusion = [[int(((g == a) & (p == b)).sum()) for b in (0, 1)] for a in (0, 1)]
    return EvalReport(
        official=germeval_f1(gold, pred),
        macro_f1=sum(s.f1 for s in per.values()) / 2,
        accuracy=100 * float((g == p).mean()) if len(g) else 0.0,
        per_class=per,
        confusion=confusion,
        threshold=threshold,
        n=len(g),
    )


def evaluate_scores(gold: Sequence[int], scores: Sequence[float], threshold: float) -> EvalReport:
    pred = [int(s >= threshold) for s in scores]
    return evaluate_labels(gold, pred, threshold)


def tune_threshold(gold: Sequence[int], scores: Sequence[float], smoothing: int = 0) -> tuple[float, float]:
    """The threshold (0.05-0.95, step 0.01) that maximizes the official metric → ``(threshold, metric)``.

    With ``smoothing = k`` the metric is first averaged over the ``2k + 1`` neighbouring thresholds,
    so a lone spike of a small validation set does not decide; the returned metric is the
    unsmoothed value at the chosen threshold. Ties go to the middle of the best plateau.
    """
    g = np.asarray(gold)
    s = np.asarray(scores)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    values = np.array([germeval_f1(g, (s >= t).astype(int)) for t in grid])
    judged = values
    if smoothing > 0:
        padded = np.pad(values, smoothing, mode="edge")
        judged = np.convolve(padded, np.ones(2 * smoothing + 1) / (2 * smoothing + 1), mode="valid")
    best = judged.max()
    top = np.flatnonzero(judged >= best - 1e-9)
    i = int(top[len(top) // 2])
    return float(grid[i]), float(values[i])


def precision_threshold(gold: Sequence[int], scores: Sequence[float], target: float, floor: float) -> float:
    """The lowest threshold (>= ``floor``, step 0.01) whose positive-class precision reaches ``target``.

    Holding a comment costs the author a delay, so a site's default hold threshold asks for
    precision, not for GermEval's balance. Falls back to 0.95 when no threshold reaches the target.
    """
    g = np.asarray(gold)
    s = np.asarray(scores)
    for t in np.round(np.arange(max(floor, 0.05), 0.951, 0.01), 2):
        predicted = s >= t
        if predicted.sum() >= 5 and float((g[predicted] == 1).mean()) >= target:
            return float(t)
    return 0.95
