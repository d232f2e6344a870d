"""The scoring side of a trained model: linear members over shared features, calibrated, averaged.

A :class:`LinearEnsemble` holds one :class:`~parley.classifiers.features.Featurizer` and a few
linear members, each a logistic model over one view of the features:

- ``tfidf``: weights over the tf-idf n-grams and the scaled style features;
- ``nb``: NB-SVM (Wang & Manning 2012) — weights over the binary n-gram presence reweighted by the
  log-count ratio ``r`` and L2-normalized, i.e. ``(x·(r∘w)) / ‖x∘r‖ + b``.

Each member's logit is calibrated with its Platt scaling ``σ(a·logit + b)`` — fitted at training
on out-of-fold logits, so a score reads as a probability on data like the training data — and the
score of a text is the mean of the calibrated members' probabilities (round 1 models have no
calibration: ``a = 1, b = 0``). A label is ``score >= threshold``.

Scoring needs nothing but numpy: for a batch a few ``bincount`` calls per member, for one comment
(the moderation phase's case) one gather from the members' stacked weight columns.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from parley.classifiers.features import Counts, Encoded, Featurizer
from parley.classifiers.tasks import Task
from parley.classifiers.text import prepare, style_features, style_text

if TYPE_CHECKING:
    from parley.classifiers.features import Batch
    from parley.moderation.normalize import NormalizedText

FloatArray = npt.NDArray[np.float64]
MEMBER_KINDS = ("tfidf", "nb")


@dataclass
class LinearMember:
    """One logistic model over one view of the features, with its Platt calibration."""

    kind: str
    weights: FloatArray
    intercept: float
    ratio: FloatArray | None = None  # NB log-count ratio (``nb`` members only)
    params: dict[str, Any] = field(default_factory=dict)
    calibration: tuple[float, float] = (1.0, 0.0)
    """Platt scaling ``(a, b)``: the member's probability is ``σ(a·logit + b)``."""

    def __post_init__(self) -> None:
        if self.kind not in MEMBER_KINDS:
            raise ValueError(f"unknown member kind {self.kind!r}")
        if self.kind == "nb" and self.ratio is None:
            raise ValueError("an nb member needs its log-count ratio")
        if self.kind == "nb":
            assert self.ratio is not None
            self._rw = self.ratio * self.weights
            self._r2 = self.ratio * self.ratio

    def logits(self, batch: Batch) -> FloatArray:
        """Logits from scipy matrices (training and cross-validation)."""
        if self.kind == "tfidf":
            return np.asarray(batch.tfidf @ self.weights, dtype=np.float64) + self.intercept
        num = np.asarray(batch.presence @ self._rw, dtype=np.float64)
        norm = np.sqrt(np.asarray(batch.presence @ self._r2, dtype=np.float64))
        norm[norm == 0] = 1.0
        return num / norm + self.intercept

    def logits_encoded(self, enc: Encoded, n_ngrams: int) -> FloatArray:
        """The same logits from the coordinate arrays (scoring: no sparse matrices to build)."""
        if self.kind == "tfidf":
            weighted = enc.tfidf * self.weights[enc.cols]
            out = np.bincount(enc.rows, weights=weighted, minlength=enc.n).astype(np.float64)
            if enc.style is not None:
                out += np.asarray(enc.style @ self.weights[n_ngrams:], dtype=np.float64)
            return np.asarray(out + self.intercept, dtype=np.float64)
        num = np.bincount(enc.rows, weights=self._rw[enc.cols], minlength=enc.n)
        norm = np.sqrt(np.bincount(enc.rows, weights=self._r2[enc.cols], minlength=enc.n))
        norm[norm == 0] = 1.0
        return num / norm + self.intercept

    def probability(self, logits: FloatArray) -> FloatArray:
        a, b = self.calibration
        return sigmoid(a * logits + b)


def sigmoid(x: FloatArray) -> FloatArray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic function


@dataclass
class ModelInfo:
    """Metadata stored with a model: what it is for, how it was made, how good it is."""

    task: Task
    version: str
    threshold: float
    hold_threshold: float | None = None
    trained_on: str = ""
    license: str = ""
    seed: int = 0
    normalizer: str = ""
    normalizer_fingerprint: str = ""
    cleaning: str = "placeholder"
    """How the input is cleaned before folding (:data:`parley.classifiers.text.CLEANING`)."""
    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)


class _Stacked:
    """Every member's weights side by side, so one comment is scored with a single gather of the
    rows of its n-grams (memory latency, not arithmetic, is the cost of scoring).

    Columns of :attr:`table`: one per ``tfidf`` member (its n-gram weights), then two per ``nb``
    member (``r∘w`` and ``r²``). The tf-idf values themselves come with the text's
    :class:`~parley.classifiers.features.Counts`, shared by the models over the same features.
    """

    def __init__(self, members: Sequence[LinearMember], featurizer: Featurizer) -> None:
        n_ngrams = featurizer.n_ngrams
        tf = [m for m in members if m.kind == "tfidf"]
        nb = [m for m in members if m.kind == "nb"]
        columns = [m.weights[:n_ngrams] for m in tf] + [c for m in nb for c in (m._rw, m._r2)]
        self.n_tf = len(tf)
        self.n_nb = len(nb)
        self.table = np.ascontiguousarray(np.stack(columns, axis=1), dtype=np.float64)
        self.style = np.stack([m.weights[n_ngrams:] for m in tf], axis=1) if tf else np.zeros((0, 0))
        ordered = tf + nb
        self.bias = np.array([m.intercept for m in ordered])
        self.cal_a = np.array([m.calibration[0] for m in ordered])
        self.cal_b = np.array([m.calibration[1] for m in ordered])

    def score(self, c: Counts) -> float:
        rows = self.table[c.cols]
        n_tf = self.n_tf
        logits = np.empty(n_tf + self.n_nb)
        if n_tf:
            tf = c.tfidf @ rows[:, :n_tf]
            if c.style is not None and self.style.shape[0]:
                tf += c.style @ self.style
            logits[:n_tf] = tf
        if self.n_nb:
            sums = np.add.reduce(rows[:, n_tf:], axis=0)  # = .sum(axis=0), without its Python wrapper
            num, sq = sums[0::2], sums[1::2]
            norm = np.sqrt(sq)
            norm[norm == 0] = 1.0
            logits[n_tf:] = num / norm
        logits += self.bias
        probs = sigmoid(self.cal_a * logits + self.cal_b)
        return float(np.add.reduce(probs) / probs.size)  # = probs.mean(), without its Python wrappers


@dataclass
class LinearEnsemble:
    """A trained model: features + members + metadata. Implements :class:`~parley.classifiers.Classifier`."""

    info: ModelInfo
    featurizer: Featurizer
    members: list[LinearMember]
    _stacked: _Stacked | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def task(self) -> Task:
        return self.info.task

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def threshold(self) -> float:
        """Labels ``score >= threshold`` as positive (tuned for the official metric)."""
        return self.info.threshold

    @property
    def hold_threshold(self) -> float:
        """The lowest score with high held-out precision (see :mod:`parley.classifiers.train`)."""
        return self.info.hold_threshold if self.info.hold_threshold is not None else self.info.threshold

    def prepare(self, text: str, normalized: NormalizedText | None = None) -> str:
        """The folded text this model reads (see :func:`parley.classifiers.text.prepare`)."""
        return prepare(text, self.info.cleaning, normalized)

    def score_prepared(self, folded: Sequence[str], raw: Sequence[str]) -> FloatArray:
        if not folded:
            return np.zeros(0)
        enc = self.featurizer.encode(folded, raw)
        n_ngrams = self.featurizer.n_ngrams
        probs = np.mean([m.probability(m.logits_encoded(enc, n_ngrams)) for m in self.members], axis=0)
        return np.asarray(probs, dtype=np.float64)

    def score_array(self, texts: Sequence[str]) -> FloatArray:
        cleaning = self.info.cleaning
        return self.score_prepared([self.prepare(t) for t in texts], [style_text(t, cleaning) for t in texts])

    def score(self, texts: Sequence[str]) -> list[float]:
        """Probability-like scores in [0, 1], one per text, in order."""
        return [float(x) for x in self.score_array(texts)]

    def score_one(
        self,
        text: str,
        normalized: NormalizedText | None = None,
        memo: MutableMapping[str, Any] | None = None,
    ) -> float:
        """The score of one comment, reusing what the caller already computed.

        ``normalized`` is the engine's normalization of ``text`` (the moderation context has it);
        ``memo`` is a per-comment dict shared by the classifier phases: the folded text and, for
        models with identical features, the encoded n-grams are computed once for all tasks.
        Equal to ``score([text])[0]``.
        """
        memo = {} if memo is None else memo
        key = f"classifiers.folded.{self.info.cleaning}"
        folded = memo.get(key)
        if folded is None:
            folded = memo[key] = self.prepare(text, normalized)
        counts_key = f"classifiers.counts.{self.info.cleaning}.{self.featurizer.fingerprint}"
        counts = memo.get(counts_key)
        if counts is None:
            style, raw_style = "", None
            if self.featurizer.spec.style:
                # the unscaled style row depends on the text and the cleaning only: computed once
                # for the models that read it (each featurizer scales it its own way), and once for
                # all cleanings of a text without artifacts, which every cleaning leaves as written
                style = style_text(text, self.info.cleaning)
                style_key = f"classifiers.style.{'as-written' if style is text else self.info.cleaning}"
                raw_style = memo.get(style_key)
                if raw_style is None:
                    raw_style = memo[style_key] = style_features([style])[0]
            counts = memo[counts_key] = self.featurizer.counts_one(folded, style, raw_style)
        if self._stacked is None:
            self._stacked = _Stacked(self.members, self.featurizer)
        return self._stacked.score(counts)

    def predict(self, texts: Sequence[str]) -> list[int]:
        return [int(s >= self.threshold) for s in self.score_array(texts)]
