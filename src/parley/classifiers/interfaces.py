"""The seam between moderation and the models: the :class:`Classifier` protocol.

The moderation phase depends on this protocol only. :class:`~parley.classifiers.model.LinearEnsemble`
is the real implementation; :class:`NullClassifier` scores everything 0 (for sites or tests that run
without models), and one contract test runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from parley.classifiers.tasks import Task


@runtime_checkable
class Classifier(Protocol):
    """Scores texts for one task. Scores are in [0, 1]; ``score >= threshold`` means positive."""

    @property
    def task(self) -> Task: ...

    @property
    def version(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def score(self, texts: Sequence[str]) -> list[float]: ...


class NullClassifier:
    """A classifier that finds nothing: every score is 0.0."""

    def __init__(self, task: Task, version: str = "null", threshold: float = 0.5) -> None:
        self._task = task
        self._version = version
        self._threshold = threshold

    @property
    def task(self) -> Task:
        return self._task

    @property
    def version(self) -> str:
        return self._version

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, texts: Sequence[str]) -> list[float]:
        return [0.0 for _ in texts]
