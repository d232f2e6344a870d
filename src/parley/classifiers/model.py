"""The scoring side of a trained model: linear members over shared features, averaged.

A :class:`LinearEnsemble` holds one :class:`~parley.classifiers.features.Featurizer` and a few
linear members, each a logistic model over one view of the features:

- ``tfidf``: weights over the tf-idf n-grams and the scaled style features;
- ``nb``: NB-SVM (Wang & Manning 2012) — weights over the binary n-gram presence reweighted by the
  log-count ratio ``r`` and L2-normalized, i.e. ``(x·(r∘w)) / ‖x∘r‖ + b``.

The score of a text is the mean of the members' probabilities; a label is ``score >= threshold``.
Scoring is a couple of sparse matrix-vector products, so it needs nothing but numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from parley.classifiers.features import Batch, Encoded, Featurizer
from parley.classifiers.tasks import Task
from parley.classifiers.text import prepare

FloatArray = npt.NDArray[np.float64]
MEMBER_KINDS = ("tfidf", "nb")


@dataclass
class LinearMember:
    """One logistic model over one view of the features."""

    kind: str
    weights: FloatArray
    intercept: float
    ratio: FloatArray | None = None  # NB log-count ratio (``nb`` members only)
    params: dict[str, Any] = field(default_factory=dict)

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
    created: str = ""
    seed: int = 0
    normalizer: str = ""
    normalizer_fingerprint: str = ""
    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class LinearEnsemble:
    """A trained model: features + members + metadata. Implements :class:`~parley.classifiers.Classifier`."""

    info: ModelInfo
    featurizer: Featurizer
    members: list[LinearMember]

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
        """The moderation phase's default: validation precision >= 80 % from here on."""
        return self.info.hold_threshold if self.info.hold_threshold is not None else self.info.threshold

    def score_prepared(self, folded: Sequence[str], raw: Sequence[str]) -> FloatArray:
        if not folded:
            return np.zeros(0)
        enc = self.featurizer.encode(folded, raw)
        n_ngrams = self.featurizer.n_ngrams
        probs = np.mean([sigmoid(m.logits_encoded(enc, n_ngrams)) for m in self.members], axis=0)
        return np.asarray(probs, dtype=np.float64)

    def score_array(self, texts: Sequence[str]) -> FloatArray:
        return self.score_prepared([prepare(t) for t in texts], texts)

    def score(self, texts: Sequence[str]) -> list[float]:
        """Probability-like scores in [0, 1], one per text, in order."""
        return [float(x) for x in self.score_array(texts)]

    def predict(self, texts: Sequence[str]) -> list[int]:
        return [int(s >= self.threshold) for s in self.score_array(texts)]
