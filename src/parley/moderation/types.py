"""Value types of the moderation domain: verdicts, reasons, phase results, decisions.

These are plain frozen dataclasses so the pipeline, the API, the batch CLI (``parley moderate``)
and the workspace share one vocabulary. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """Outcome of moderation. Ordered: ``reject`` > ``hold`` > ``publish``."""

    PUBLISH = "publish"
    HOLD = "hold"
    REJECT = "reject"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def strongest(cls, verdicts: Iterable[Verdict]) -> Verdict:
        best = cls.PUBLISH
        for v in verdicts:
            if _RANK[v] > _RANK[best]:
                best = v
        return best


_RANK = {Verdict.PUBLISH: 0, Verdict.HOLD: 1, Verdict.REJECT: 2}


class FailMode(StrEnum):
    """What a phase's failure means: ``closed`` holds the comment, ``open`` lets it through.

    Either way the failure is recorded as a ``phase_failed`` reason and counted for health.
    """

    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range ``[start, end)`` in the comment's plain text."""

    start: int
    end: int

    def as_list(self) -> list[int]:
        return [self.start, self.end]


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding of one phase, with the evidence a person needs to understand it.

    ``code`` is stable (clients and statements branch on it); ``detail`` is a short English
    explanation; ``params`` lets the i18n layer render the same explanation in any language
    (see :mod:`parley.moderation.messages`); ``span`` points into the plain text.
    """

    phase: str
    code: str
    detail: str
    params: Mapping[str, Any] = field(default_factory=dict)
    span: Span | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    verdict: Verdict = Verdict.PUBLISH

    def public(self) -> dict[str, str]:
        """The ``{"phase","code","detail"}`` triple of the API and ``parley moderate`` contracts."""
        return {"phase": self.phase, "code": self.code, "detail": self.detail}

    def to_record(self) -> dict[str, Any]:
        """Full form stored with a decision (JSON-serialisable)."""
        out: dict[str, Any] = {
            "phase": self.phase,
            "code": self.code,
            "detail": self.detail,
            "verdict": self.verdict.value,
        }
        if self.params:
            out["params"] = dict(self.params)
        if self.span is not None:
            out["span"] = self.span.as_list()
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        return out

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Reason:
        span = rec.get("span")
        return cls(
            phase=str(rec["phase"]),
            code=str(rec["code"]),
            detail=str(rec.get("detail", "")),
            params=dict(rec.get("params") or {}),
            span=Span(int(span[0]), int(span[1])) if span else None,
            evidence=dict(rec.get("evidence") or {}),
            verdict=Verdict(rec.get("verdict", Verdict.PUBLISH.value)),
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """A structural refusal: the comment is malformed (too long, thread closed, empty).

    The pipeline stops at a refusal. The API turns it into an :class:`~parley.errors.AppError`
    with ``error_code``; ``parley moderate`` reports it as a ``reject`` with the reason.
    """

    error_code: str
    status: int
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """What one phase returns: its verdict, its reasons, and optional scores and tags."""

    verdict: Verdict = Verdict.PUBLISH
    reasons: tuple[Reason, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    refusal: Refusal | None = None
    model_version: str | None = None

    @classmethod
    def ok(cls) -> PhaseResult:
        return _OK


_OK = PhaseResult()


@dataclass(frozen=True, slots=True)
class PhaseRun:
    """Bookkeeping of one phase run, for health metrics."""

    phase: str
    seconds: float
    failed: bool
    verdict: Verdict
    codes: tuple[str, ...] = ()  # the reason codes it gave (metrics: verdicts by phase and code)


@dataclass(frozen=True, slots=True)
class Decision:
    """The pipeline's outcome for one comment: strongest verdict plus every phase's evidence."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    scores: Mapping[str, float]
    tags: frozenset[str]
    runs: tuple[PhaseRun, ...]
    refusal: Refusal | None = None
    model_versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed_phases(self) -> list[str]:
        return [r.phase for r in self.runs if r.failed]

    def public_reasons(self) -> list[dict[str, str]]:
        return [r.public() for r in self.reasons]
