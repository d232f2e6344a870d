"""The moderation pipeline: an ordered list of small phases, every one of which runs.

Each phase returns a :class:`PhaseResult` with its verdict and reasons; the pipeline keeps every
reason (a later verdict never hides an earlier finding) and the strongest verdict wins
(``reject`` > ``hold`` > ``publish``). Only a structural *refusal* (malformed comment) stops the run.
A phase that raises is recorded as ``phase_failed``; if it fails closed the comment is held.

The order of the phases is defined in :func:`default_phases`, with the reason for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from parley.moderation.context import ModerationContext
from parley.moderation.types import Decision, FailMode, PhaseResult, PhaseRun, Reason, Verdict

log = logging.getLogger(__name__)


class Phase(Protocol):
    """One step of moderation. ``name`` is stable: it appears in reasons and metrics.

    A phase may also have ``prepare(ctx) -> None``: work that depends on the comment's text and the
    site's policy only — never on the author, the thread or the stores — left in ``ctx.memo`` for
    :meth:`run` (see :meth:`Pipeline.prepare`)."""

    name: str
    fail_mode: FailMode

    def run(self, ctx: ModerationContext) -> PhaseResult: ...


PREPARED_SECONDS = "pipeline.prepared_seconds"
"""Key in ``ctx.memo``: seconds each phase spent in ``prepare``, added to its run's time."""


PhaseObserver = Callable[[PhaseRun], None]

DEFERRED_RUNS = "pipeline.deferred_runs"
"""Key in ``ctx.memo``: a list that :meth:`Pipeline.run` appends its phase runs to instead of
telling the observers; the caller hands them on with :meth:`Pipeline.observe` once it is out of
the write transaction (the observers' metrics need not hold up other writers)."""


class Pipeline:
    """Runs phases in order and folds their results into one :class:`Decision`."""

    def __init__(self, phases: Sequence[Phase], observers: Sequence[PhaseObserver] = ()) -> None:
        names = [p.name for p in phases]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate phase names: {names}")
        self.phases: tuple[Phase, ...] = tuple(phases)
        self.observers = list(observers)

    @property
    def phase_names(self) -> list[str]:
        return [p.name for p in self.phases]

    def prepare(self, ctx: ModerationContext) -> dict[str, Any]:
        """Do the phases' text-only work ahead of :meth:`run` and return the memo to build the
        real context with (``ModerationContext(..., memo=...)``, same text and policy).

        The comment path calls this before it takes the database's write lock, so the costly pure
        work (normalizing, fingerprinting, the classifiers' scores) does not hold up other writers;
        every phase still runs, in order, inside the write transaction and decides there. A
        ``prepare`` that raises is ignored: :meth:`run` does the work again and records a failure.
        """
        spent: dict[str, float] = ctx.memo.setdefault(PREPARED_SECONDS, {})
        for phase in self.phases:
            hook = getattr(phase, "prepare", None)
            if hook is None:
                continue
            t0 = time.perf_counter()
            try:
                hook(ctx)
            except Exception:  # run() repeats the work and records the failure
                log.debug("prepare of phase %s failed; left to its run", phase.name, exc_info=True)
            spent[phase.name] = spent.get(phase.name, 0.0) + time.perf_counter() - t0
        return ctx.memo

    def observe(self, runs: Sequence[PhaseRun]) -> None:
        """Tell every observer of each phase run, in order."""
        for run in runs:
            for obs in self.observers:
                obs(run)

    @contextmanager
    def observed_after(self, memo: dict[str, Any] | None) -> Iterator[None]:
        """Runs of the pipeline on a context with ``memo`` inside the block are told to the
        observers when the block ends (however it ends), not while the phases run."""
        if memo is None:
            yield
            return
        runs: list[PhaseRun] = []
        memo[DEFERRED_RUNS] = runs
        try:
            yield
        finally:
            memo.pop(DEFERRED_RUNS, None)
            self.observe(runs)

    def run(self, ctx: ModerationContext) -> Decision:
        prepared: dict[str, float] = ctx.memo.get(PREPARED_SECONDS) or {}
        reasons: list[Reason] = []
        scores: dict[str, float] = {}
        tags: set[str] = set()
        runs: list[PhaseRun] = []
        versions: dict[str, str] = {}
        verdict = Verdict.PUBLISH
        deferred: list[PhaseRun] | None = ctx.memo.get(DEFERRED_RUNS)
        for phase in self.phases:
            t0 = time.perf_counter()
            failed = False
            try:
                result = phase.run(ctx)
            except Exception as exc:  # a detector bug must not publish silently nor crash the request
                failed = True
                log.exception("moderation phase %s failed", phase.name)
                held = phase.fail_mode is FailMode.CLOSED
                result = PhaseResult(
                    verdict=Verdict.HOLD if held else Verdict.PUBLISH,
                    reasons=(
                        Reason(
                            phase=phase.name,
                            code="phase_failed",
                            detail=f"The {phase.name} check failed ({type(exc).__name__}); "
                            + ("held for a moderator." if held else "not applied."),
                            params={"phase": phase.name, "error": type(exc).__name__},
                            verdict=Verdict.HOLD if held else Verdict.PUBLISH,
                        ),
                    ),
                )
            codes = tuple(r.code for r in result.reasons)
            seconds = time.perf_counter() - t0 + prepared.get(phase.name, 0.0)
            run = PhaseRun(phase.name, seconds, failed, result.verdict, codes)
            runs.append(run)
            if deferred is not None:
                deferred.append(run)
            else:
                self.observe((run,))
            reasons.extend(result.reasons)
            scores.update(result.scores)
            tags.update(result.tags)
            if result.model_version:
                versions[phase.name] = result.model_version
            if result.verdict.rank > verdict.rank:
                verdict = result.verdict
            if result.refusal is not None:
                return Decision(
                    verdict=Verdict.REJECT,
                    reasons=tuple(reasons),
                    scores=scores,
                    tags=frozenset(tags),
                    runs=tuple(runs),
                    refusal=result.refusal,
                    model_versions=versions,
                )
        return Decision(
            verdict=verdict,
            reasons=tuple(reasons),
            scores=scores,
            tags=frozenset(tags),
            runs=tuple(runs),
            model_versions=versions,
        )


def default_phases() -> list[Phase]:
    """The phases of a site's pipeline, in order.

    Order matters only for refusals and for cost; everything that does not refuse always runs and
    leaves its evidence. Refusing phases come first because a refused comment is not stored and
    every later phase would waste work on it: structural checks (closed thread, length, nothing
    left after sanitizing), then the author's standing (suspended or banned accounts), then flood
    and rate limits. Then the holds, cheapest first: pre-moderation, names, terms, links, copies,
    the classifier models (slowest) and the re-queue rule for reported comments.
    """
    from parley.moderation.phases import (
        copies,
        length,
        links,
        names,
        premoderation,
        rate,
        reports,
        sanitize,
        terms,
        thread_state,
        trust,
    )

    return [
        thread_state.ThreadStatePhase(),  # closed thread: refuse before anything else
        length.LengthPhase(),  # too long / too short: refuse
        sanitize.SanitizePhase(),  # nothing left after sanitizing: refuse
        trust.TrustPhase(),  # suspended/banned: refuse; always-premoderate, new, low trust: hold
        rate.RatePhase(),  # flood and rate limits: refuse with Retry-After; busy story: hold
        premoderation.PremoderationPhase(),  # site/story pre-moderation: hold, never refuse
        names.NamesPhase(),  # look-alike of another account's or a reserved name
        terms.TermsPhase(),  # banned terms reject, suspect terms hold
        links.LinksPhase(),  # too many links, denied domains
        copies.CopiesPhase(),  # near-duplicates of published comments
        *classifier_phases(),  # the models, when the classifier package provides them
        reports.ReportsPhase(),  # an edit of an often-reported comment goes back to the queue
    ]


def classifier_phases() -> list[Phase]:
    """The classifier phases, if :mod:`parley.moderation.phases.classifier` exists.

    That module (owned by the classifier issue) exposes ``classifier_phases() -> list[Phase]``, or a
    ``ClassifierPhase`` class. When it is absent the pipeline runs without models; when it exists
    but fails to import, that error surfaces (a broken detector must not vanish silently).
    """
    if importlib.util.find_spec("parley.moderation.phases.classifier") is None:
        return []
    module = importlib.import_module("parley.moderation.phases.classifier")
    factory = getattr(module, "classifier_phases", None)
    if callable(factory):
        return list(factory())
    phase_class = getattr(module, "ClassifierPhase", None)
    return [phase_class()] if phase_class is not None else []


def build_pipeline(observers: Sequence[PhaseObserver] = ()) -> Pipeline:
    return Pipeline(default_phases(), observers)
