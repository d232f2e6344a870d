"""Training: fit features and members, tune the thresholds on held-out scores, refit on all data.

The procedure is the same for every task and for a publisher's own export:

1. Get held-out scores for the training data only (test splits are never passed in here), either
   from a stratified validation split (``val_fraction``, fixed ``seed``) or, for data ordered by
   source (``split="blocked_cv"``), from a 5-fold cross-validation over contiguous blocks.
2. Choose the threshold that maximizes the official metric on those scores, record the figures.
3. Refit on the whole training data with the same hyper-parameters and keep that threshold.

Two thresholds come out of step 2: ``threshold`` maximizes the official metric (what ``predict``
labels with and what the shared tasks compare), and ``hold_threshold`` is the lowest score at which
the validation precision reaches ``HOLD_PRECISION`` — the default at which the moderation phase
holds a comment, because a held comment delays a person and should rarely be a false alarm.

Everything is deterministic: the split is seeded and the solver (L-BFGS) has no randomness, so
training twice on the same data gives identical weights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from parley.classifiers.data import Dataset
from parley.classifiers.features import Batch, FeatureSpec, Featurizer
from parley.classifiers.metrics import evaluate_scores, germeval_f1, precision_threshold, tune_threshold
from parley.classifiers.model import FloatArray, LinearEnsemble, LinearMember, ModelInfo
from parley.classifiers.tasks import Task
from parley.classifiers.text import NORMALIZER, normalizer_fingerprint, prepare

BLOCKS = ("char", "word", "style")
HOLD_PRECISION = 0.8


@dataclass(frozen=True)
class MemberConfig:
    """One member: its kind (``tfidf`` or ``nb``), regularization ``C`` and the blocks it reads."""

    kind: str = "tfidf"
    C: float = 3.0
    blocks: tuple[str, ...] = BLOCKS
    nb_alpha: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "C": self.C, "blocks": list(self.blocks), "nb_alpha": self.nb_alpha}


@dataclass(frozen=True)
class TrainConfig:
    features: FeatureSpec = field(default_factory=FeatureSpec)
    members: tuple[MemberConfig, ...] = (
        MemberConfig("tfidf", 3.0),
        MemberConfig("nb", 3.0, ("char", "word")),
    )
    val_fraction: float = 0.2
    split: str = "stratified"
    """Where thresholds are tuned. ``stratified``: a seeded random validation split of ``val_fraction``.
    ``blocked_cv``: out-of-fold scores of a 5-fold cross-validation over *contiguous* blocks of the
    training file — for data whose order follows its source (GermEval 2021 runs episode by episode and
    its test split has other episodes), so every score comes from a model that never saw that episode."""
    threshold_smoothing: int = 0
    """Average the metric over this many neighbouring thresholds on each side before choosing."""
    seed: int = 20180901
    aux_weight: float = 1.0
    max_iter: int = 2000

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features.to_json(),
            "members": [m.to_json() for m in self.members],
            "val_fraction": self.val_fraction,
            "split": self.split,
            "threshold_smoothing": self.threshold_smoothing,
            "seed": self.seed,
            "aux_weight": self.aux_weight,
        }


@dataclass
class TrainReport:
    """What training measured (validation split only; test figures come from ``parley model eval``)."""

    n_train: int
    n_val: int
    n_aux: int
    threshold: float
    hold_threshold: float
    val_official: float
    val_official_at_half: float
    val_report: dict[str, Any]
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "n_train": self.n_train,
            "n_val": self.n_val,
            "n_aux": self.n_aux,
            "threshold": self.threshold,
            "hold_threshold": self.hold_threshold,
            "hold_precision_target": HOLD_PRECISION,
            "val_official_f1_macro_pr": round(self.val_official, 2),
            "val_official_at_0.5": round(self.val_official_at_half, 2),
            "val_report": self.val_report,
            "seconds": round(self.seconds, 1),
        }


def stratified_split(labels: Sequence[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices ``(train, validation)``; each class contributes ``fraction`` of its items to validation."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    val: list[int] = []
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        val.extend(int(i) for i in idx[: round(len(idx) * fraction)])
    val_set = set(val)
    return [i for i in range(len(y)) if i not in val_set], sorted(val)


def blocked_folds(n: int, k: int) -> list[tuple[list[int], list[int]]]:
    """K folds of contiguous blocks ``(train, held_out)``, in file order (no shuffling)."""
    bounds = [round(n * f / k) for f in range(k + 1)]
    return [
        ([i for i in range(n) if not bounds[f] <= i < bounds[f + 1]], list(range(bounds[f], bounds[f + 1])))
        for f in range(k)
    ]


def stratified_folds(labels: Sequence[int], k: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """K stratified folds ``(train, held_out)`` for cross-validation on a training split."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    fold_of = np.zeros(len(y), dtype=np.int64)
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % k
    out = []
    for f in range(k):
        held = np.flatnonzero(fold_of == f)
        rest = np.flatnonzero(fold_of != f)
        out.append(([int(i) for i in rest], [int(i) for i in held]))
    return out


def _columns(feat: Featurizer, blocks: Sequence[str], with_style: bool) -> np.ndarray[Any, Any]:
    cols: list[np.ndarray[Any, Any]] = []
    if "char" in blocks:
        cols.append(np.arange(feat.n_char))
    if "word" in blocks:
        cols.append(np.arange(feat.n_char, feat.n_ngrams))
    if with_style and "style" in blocks and feat.n_style:
        cols.append(np.arange(feat.n_ngrams, feat.n_features))
    return np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)


def _fit_lr(
    x: sp.csr_matrix, y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], c: float, iters: int
) -> tuple[FloatArray, float]:
    # Balanced classes, computed on the weighted labels (auxiliary data included).
    pos = float(w[y == 1].sum())
    neg = float(w[y == 0].sum())
    cw = np.where(y == 1, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg))
    lr = LogisticRegression(C=c, max_iter=iters, solver="lbfgs", tol=1e-4)
    lr.fit(x, y, sample_weight=w * cw)
    return np.asarray(lr.coef_[0], dtype=np.float64), float(lr.intercept_[0])


def fit_member(
    cfg: MemberConfig,
    feat: Featurizer,
    batch: Batch,
    y: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
    iters: int,
) -> LinearMember:
    if cfg.kind == "tfidf":
        cols = _columns(feat, cfg.blocks, with_style=True)
        coef, b = _fit_lr(batch.tfidf[:, cols], y, w, cfg.C, iters)
        weights = np.zeros(feat.n_features)
        weights[cols] = coef
        return LinearMember("tfidf", weights, b, params=cfg.to_json())
    if cfg.kind == "nb":
        cols = _columns(feat, cfg.blocks, with_style=False)
        x = batch.presence
        p = cfg.nb_alpha + np.asarray(x[y == 1].T @ w[y == 1]).ravel()
        q = cfg.nb_alpha + np.asarray(x[y == 0].T @ w[y == 0]).ravel()
        ratio = np.zeros(feat.n_ngrams)
        ratio[cols] = np.log((p[cols] / p[cols].sum()) / (q[cols] / q[cols].sum()))
        xr = x.multiply(ratio).tocsr()
        norms = np.sqrt(np.asarray(xr.multiply(xr).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        xr = sp.diags(1.0 / norms) @ xr
        coef, b = _fit_lr(xr[:, cols].tocsr(), y, w, cfg.C, iters)
        weights = np.zeros(feat.n_ngrams)
        weights[cols] = coef
        return LinearMember("nb", weights, b, ratio=ratio, params=cfg.to_json())
    raise ValueError(f"unknown member kind {cfg.kind!r}")


def fit_ensemble(
    task: Task, data: Dataset, config: TrainConfig, aux: Dataset | None = None, *, threshold: float = 0.5
) -> LinearEnsemble:
    """Fit features and members on ``data`` (+ ``aux`` at ``config.aux_weight``)."""
    texts = list(data.texts)
    labels = list(data.labels)
    weights = [1.0] * len(texts)
    if aux is not None and len(aux) and config.aux_weight > 0:
        texts += aux.texts
        labels += aux.labels
        weights += [config.aux_weight] * len(aux)
    folded = [prepare(t) for t in texts]
    feat = Featurizer.fit(config.features, folded, texts)
    batch = feat.transform(folded, texts)
    y = np.asarray(labels)
    w = np.asarray(weights)
    members = [fit_member(m, feat, batch, y, w, config.max_iter) for m in config.members]
    info = ModelInfo(
        task=task,
        version="unversioned",
        threshold=threshold,
        seed=config.seed,
        normalizer=NORMALIZER,
        normalizer_fingerprint=normalizer_fingerprint(),
        training=config.to_json(),
    )
    return LinearEnsemble(info=info, featurizer=feat, members=members)


def train(
    task: Task,
    data: Dataset,
    config: TrainConfig,
    aux: Dataset | None = None,
    *,
    version: str | None = None,
    trained_on: str = "",
    license: str = "",
) -> tuple[LinearEnsemble, TrainReport]:
    """The full procedure of the module docstring → ``(model refit on all data, report)``."""
    t0 = dt.datetime.now(dt.UTC)
    if config.split == "blocked_cv":
        val = data
        val_scores = np.zeros(len(data))
        for tr_idx, held in blocked_folds(len(data), 5):
            probe = fit_ensemble(task, data.subset(tr_idx), config, aux)
            val_scores[held] = probe.score_array(data.subset(held).texts)
    else:
        tr_idx, val_idx = stratified_split(data.labels, config.val_fraction, config.seed)
        val = data.subset(val_idx)
        probe = fit_ensemble(task, data.subset(tr_idx), config, aux)
        val_scores = probe.score_array(val.texts)
    threshold, val_best = tune_threshold(val.labels, list(val_scores), config.threshold_smoothing)
    at_half = germeval_f1(val.labels, [int(s >= 0.5) for s in val_scores])
    report = TrainReport(
        n_train=len(data),
        n_val=len(val),
        n_aux=len(aux) if aux is not None and config.aux_weight > 0 else 0,
        threshold=threshold,
        hold_threshold=precision_threshold(val.labels, list(val_scores), HOLD_PRECISION, threshold),
        val_official=val_best,
        val_official_at_half=at_half,
        val_report=evaluate_scores(val.labels, list(val_scores), threshold).to_json(),
    )
    model = fit_ensemble(task, data, config, aux, threshold=threshold)
    now = dt.datetime.now(dt.UTC)
    report.seconds = (now - t0).total_seconds()
    model.info = replace(
        model.info,
        version=version or f"{task.value}-{now:%Y%m%d}",
        hold_threshold=report.hold_threshold,
        trained_on=trained_on or data.name,
        license=license,
        created=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        metrics={"validation": report.to_json()},
    )
    return model, report


def cross_validate(
    task: Task, data: Dataset, config: TrainConfig, aux: Dataset | None = None, k: int = 5
) -> FloatArray:
    """Out-of-fold scores on a training split, for model selection (never on a test split)."""
    oof = np.zeros(len(data))
    for tr_idx, held in stratified_folds(data.labels, k, config.seed):
        model = fit_ensemble(task, data.subset(tr_idx), config, aux)
        oof[held] = model.score_array(data.subset(held).texts)
    return oof
