"""Training: cross-validate on the training data, calibrate, choose thresholds, refit on all of it.

The procedure is the same for every task and for a publisher's own export. It reads training data
only — a test split is never passed in here (``parley model eval`` alone reads those):

1. **Cross-validation** (``k`` folds) over the training data gives every item an out-of-fold logit
   per member. The folds follow how the data was collected, so that a held-out fold looks like
   unseen data: ``grouped`` keeps all tweets addressed to one account in one fold (GermEval 2018:
   its test tweets come from other conversations), ``blocked`` cuts the file into contiguous
   blocks (GermEval 2021 runs episode by episode; its test split has other episodes), and
   ``stratified`` is a seeded random split (a publisher's export).
2. **Calibration**: each member gets a Platt scaling fitted on its out-of-fold logits, so the
   averaged score reads as a probability (what a site's hold threshold is written in).
3. **Thresholds** from the out-of-fold ensemble scores: ``threshold`` maximizes the official metric
   (smoothed over neighbouring thresholds, so one lucky spike does not decide) — what
   ``parley model predict``/``eval`` label with — and ``hold_threshold`` is the lowest score whose
   out-of-fold precision reaches ``hold_precision``.
4. **Refit** on all training data with the same hyper-parameters, keeping calibration and thresholds.

Everything is deterministic: folds are seeded, L-BFGS has no randomness, and the artifact is
written byte for byte the same when nothing changed (:mod:`parley.classifiers.artifact`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.classifiers.data import Dataset
from parley.classifiers.features import Batch, FeatureSpec, Featurizer
from parley.classifiers.metrics import evaluate_scores, germeval_f1, precision_threshold, tune_threshold
from parley.classifiers.model import FloatArray, LinearEnsemble, LinearMember, ModelInfo, sigmoid
from parley.classifiers.tasks import Task
from parley.classifiers.text import (
    DEFAULT_CLEANING,
    NORMALIZER,
    normalizer_fingerprint,
    prepare,
    style_text,
)

if TYPE_CHECKING:
    import scipy.sparse as sp

BLOCKS = ("char", "word", "style")
FOLD_KINDS = ("stratified", "grouped", "blocked")
Folds = list[tuple[list[int], list[int]]]


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
    cleaning: str = DEFAULT_CLEANING
    """How inputs are cleaned before folding (:data:`parley.classifiers.text.CLEANING`)."""
    folds: str = "stratified"
    """Cross-validation folds: ``stratified``, ``grouped`` (by ``meta["group"]``) or ``blocked``."""
    k: int = 5
    threshold_smoothing: int = 5
    """Average the metric over this many neighbouring thresholds on each side before choosing."""
    hold_precision: float = 0.9
    """Out-of-fold precision that ``hold_threshold`` must reach."""
    calibrate: bool = True
    seed: int = 20180901
    aux_weight: float = 1.0
    max_iter: int = 3000

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features.to_json(),
            "members": [m.to_json() for m in self.members],
            "cleaning": self.cleaning,
            "folds": self.folds,
            "k": self.k,
            "threshold_smoothing": self.threshold_smoothing,
            "hold_precision": self.hold_precision,
            "calibrate": self.calibrate,
            "seed": self.seed,
            "aux_weight": self.aux_weight,
        }


@dataclass
class TrainReport:
    """What training measured — out-of-fold figures on the training data only."""

    n_train: int
    n_aux: int
    folds: str
    threshold: float
    hold_threshold: float
    cv_official: float
    cv_official_at_half: float
    cv_report: dict[str, Any]
    calibration: list[list[float]]
    seconds: float = 0.0
    oof_scores: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_json(self) -> dict[str, Any]:
        """The figures stored in the artifact (nothing that changes from run to run)."""
        return {
            "n_train": self.n_train,
            "n_aux": self.n_aux,
            "folds": self.folds,
            "threshold": self.threshold,
            "hold_threshold": self.hold_threshold,
            "cv_official_f1_macro_pr": round(self.cv_official, 2),
            "cv_official_at_0.5": round(self.cv_official_at_half, 2),
            "cv_report": self.cv_report,
            "calibration": self.calibration,
        }


# -- folds --------------------------------------------------------------------------------------


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


def blocked_folds(n: int, k: int) -> Folds:
    """K folds of contiguous blocks ``(train, held_out)``, in file order (no shuffling)."""
    bounds = [round(n * f / k) for f in range(k + 1)]
    return [
        ([i for i in range(n) if not bounds[f] <= i < bounds[f + 1]], list(range(bounds[f], bounds[f + 1])))
        for f in range(k)
    ]


def stratified_folds(labels: Sequence[int], k: int, seed: int) -> Folds:
    """K stratified folds ``(train, held_out)`` for cross-validation on a training split."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    fold_of = np.zeros(len(y), dtype=np.int64)
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % k
    return _from_assignment(fold_of, k)


def grouped_folds(labels: Sequence[int], groups: Sequence[str], k: int, seed: int) -> Folds:
    """K folds in which every group lies in one fold, balancing size and positives.

    Groups are shuffled (seeded), then placed largest first into the fold that is furthest below
    its share of items and of positives (a deterministic StratifiedGroupKFold).
    """
    y = np.asarray(labels)
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g or f"\x00{i}", []).append(i)
    names = sorted(members)
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    names.sort(key=lambda g: -len(members[g]))  # stable: ties keep the shuffled order
    size = np.zeros(k)
    pos = np.zeros(k)
    n, n_pos = len(y), max(int(y.sum()), 1)
    fold_of = np.zeros(n, dtype=np.int64)
    for g in names:
        idx = members[g]
        deficit = size / n + pos / n_pos
        f = int(np.argmin(deficit))
        fold_of[idx] = f
        size[f] += len(idx)
        pos[f] += int(y[idx].sum())
    return _from_assignment(fold_of, k)


def _from_assignment(fold_of: np.ndarray[Any, Any], k: int) -> Folds:
    return [
        ([int(i) for i in np.flatnonzero(fold_of != f)], [int(i) for i in np.flatnonzero(fold_of == f)])
        for f in range(k)
    ]


def make_folds(data: Dataset, config: TrainConfig) -> Folds:
    if config.folds == "blocked":
        return blocked_folds(len(data), config.k)
    if config.folds == "grouped":
        groups = [m.get("group", "") for m in data.meta] if data.meta else [""] * len(data)
        return grouped_folds(data.labels, groups, config.k, config.seed)
    if config.folds == "stratified":
        return stratified_folds(data.labels, config.k, config.seed)
    raise ValueError(f"unknown fold kind {config.folds!r} ({', '.join(FOLD_KINDS)})")


# -- fitting ------------------------------------------------------------------------------------


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
    from sklearn.linear_model import LogisticRegression

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
    import scipy.sparse as sp

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
    """Fit features and members on ``data`` (+ ``aux`` at ``config.aux_weight``), uncalibrated."""
    texts = list(data.texts)
    labels = list(data.labels)
    weights = [1.0] * len(texts)
    if aux is not None and len(aux) and config.aux_weight > 0:
        texts += aux.texts
        labels += aux.labels
        weights += [config.aux_weight] * len(aux)
    folded = [prepare(t, config.cleaning) for t in texts]
    raw = [style_text(t, config.cleaning) for t in texts]
    feat = Featurizer.fit(config.features, folded, raw)
    batch = feat.transform(folded, raw)
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
        cleaning=config.cleaning,
        training=config.to_json(),
    )
    return LinearEnsemble(info=info, featurizer=feat, members=members)


def member_logits(model: LinearEnsemble, texts: Sequence[str]) -> FloatArray:
    """``(n_texts, n_members)`` raw logits (before calibration)."""
    folded = [model.prepare(t) for t in texts]
    raw = [style_text(t, model.info.cleaning) for t in texts]
    enc = model.featurizer.encode(folded, raw)
    n_ngrams = model.featurizer.n_ngrams
    return np.stack([m.logits_encoded(enc, n_ngrams) for m in model.members], axis=1)


def platt(logits: FloatArray, labels: Sequence[int]) -> tuple[float, float]:
    """Platt scaling ``(a, b)`` fitted on held-out logits (almost unregularized logistic fit)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000, tol=1e-8)
    lr.fit(np.asarray(logits).reshape(-1, 1), np.asarray(labels))
    return round(float(lr.coef_[0, 0]), 6), round(float(lr.intercept_[0]), 6)


def out_of_fold_logits(
    task: Task, data: Dataset, config: TrainConfig, aux: Dataset | None = None, folds: Folds | None = None
) -> FloatArray:
    """Out-of-fold member logits ``(n, n_members)`` of a cross-validation on the training data."""
    oof = np.zeros((len(data), len(config.members)))
    for tr_idx, held in folds if folds is not None else make_folds(data, config):
        probe = fit_ensemble(task, data.subset(tr_idx), config, aux)
        oof[held] = member_logits(probe, data.subset(held).texts)
    return oof


def combine(logits: FloatArray, calibration: Sequence[tuple[float, float]]) -> FloatArray:
    """The ensemble score from member logits: the mean of the calibrated probabilities."""
    a = np.array([c[0] for c in calibration])
    b = np.array([c[1] for c in calibration])
    return np.asarray(sigmoid(logits * a + b).mean(axis=1), dtype=np.float64)


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
    t0 = time.perf_counter()
    oof = out_of_fold_logits(task, data, config, aux)
    labels = list(data.labels)
    calibration = [platt(oof[:, j], labels) if config.calibrate else (1.0, 0.0) for j in range(oof.shape[1])]
    scores = combine(oof, calibration)
    threshold, cv_best = tune_threshold(labels, list(scores), config.threshold_smoothing)
    hold = precision_threshold(labels, list(scores), config.hold_precision, threshold)
    report = TrainReport(
        n_train=len(data),
        n_aux=len(aux) if aux is not None and config.aux_weight > 0 else 0,
        folds=f"{config.folds} {config.k}-fold (seed {config.seed})",
        threshold=threshold,
        hold_threshold=hold,
        cv_official=cv_best,
        cv_official_at_half=germeval_f1(labels, [int(s >= 0.5) for s in scores]),
        cv_report=evaluate_scores(labels, list(scores), threshold).to_json(),
        calibration=[list(c) for c in calibration],
        oof_scores=scores,
    )
    model = fit_ensemble(task, data, config, aux, threshold=threshold)
    for member, cal in zip(model.members, calibration, strict=True):
        member.calibration = cal
    report.seconds = time.perf_counter() - t0
    model.info = replace(
        model.info,
        version=version or "",
        hold_threshold=hold,
        trained_on=trained_on or data.name,
        license=license,
        metrics={"cross_validation": report.to_json()},
    )
    return model, report


def cross_validate(task: Task, data: Dataset, config: TrainConfig, aux: Dataset | None = None) -> FloatArray:
    """Out-of-fold ensemble scores on a training split, for model selection (never on a test split).

    Calibration is fitted on the same out-of-fold logits (two parameters per member: a negligible
    optimism for comparing configurations)."""
    oof = out_of_fold_logits(task, data, config, aux)
    calibration = [
        platt(oof[:, j], data.labels) if config.calibrate else (1.0, 0.0) for j in range(oof.shape[1])
    ]
    return combine(oof, calibration)
