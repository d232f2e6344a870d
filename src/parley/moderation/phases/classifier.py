"""The classifier phases: one per task, scoring the comment with the project's own models.

Each phase loads its task's model through :func:`parley.classifiers.loader.load_classifier` (the
publisher's trained models first, then the shipped GermEval 2018 offense model) and scores the
comment's text as the engine folded it (``ctx.normalized``, computed once for all phases), so
spaced, leet and look-alike spellings score like the plain word. The folded text and the encoded
n-grams are memoized on the context (``ctx.memo``), so the four tasks share that work.

What the score does is the site's :class:`parley.classifiers.settings.ClassifierPolicy`:

- the score is always returned in ``scores`` (stored with the decision, shown to moderators) with
  the model version — a comment below every threshold gets no reason, so its statement of reasons
  stays empty;
- ``offense`` → ``offensive`` and ``toxic`` → ``toxic`` hold at the site's hold threshold
  (``reject_threshold``, when a site sets one, rejects);
- ``fact_claim`` → ``fact_claim``: flagged for moderators (a reason, published), never held by default;
- ``engaging`` (off by default) → ``engaging``: a positive signal, never held.

Reasons are built with :func:`parley.moderation.messages.make_reason`, so they read in German and
English. Fails **closed**: a broken model holds the comment (``phase_failed``). A model that is not
installed (the toxic and fact-claim models are trained on the publisher's machine) skips the task
unless the policy's ``missing_model_fails`` says to hold instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from parley.classifiers.errors import ModelNotFound
from parley.classifiers.interfaces import Classifier
from parley.classifiers.settings import ClassifierPolicy
from parley.classifiers.tasks import Task
from parley.moderation.context import ModerationContext
from parley.moderation.messages import make_reason
from parley.moderation.types import FailMode, PhaseResult, Verdict

log = logging.getLogger(__name__)

ClassifierFactory = Callable[[Task], Classifier]
MISSING_RECHECK_SECONDS = 30.0
"""A task without a model is looked for again after this long (a model trained meanwhile is found)."""


def _load(task: Task) -> Classifier:
    from parley.classifiers.loader import load_classifier  # numpy: only when a phase first runs

    return load_classifier(task)


def _policy(ctx: ModerationContext) -> ClassifierPolicy:
    """The site's classifier settings (a policy object of another shape gets the defaults)."""
    raw = getattr(ctx.policy, "classifier", None)
    if isinstance(raw, ClassifierPolicy):
        return raw
    if raw is None:
        return ClassifierPolicy()
    data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
    return ClassifierPolicy.model_validate(
        {k: v for k, v in data.items() if k in ClassifierPolicy.model_fields}
    )


class ClassifierPhase:
    """Scores the comment for one :class:`~parley.classifiers.tasks.Task`."""

    fail_mode = FailMode.CLOSED

    def __init__(self, task: Task | str = Task.OFFENSE, factory: ClassifierFactory | None = None) -> None:
        self.task = Task(task)
        self.name = f"classifier_{self.task.value}"
        self._factory: ClassifierFactory = factory or _load
        self._model: Classifier | None = None
        self._missing: tuple[float, str] | None = None

    def _get_model(self) -> Classifier:
        """The task's model, kept once loaded; a missing one is looked for again after a while."""
        if self._model is not None:
            return self._model
        now = time.monotonic()
        if self._missing is not None and now < self._missing[0]:
            raise ModelNotFound(self._missing[1])
        try:
            self._model = self._factory(self.task)
        except ModelNotFound as exc:
            self._missing = (now + MISSING_RECHECK_SECONDS, str(exc))
            raise
        return self._model

    def _score(self, ctx: ModerationContext, model: Classifier) -> float:
        """The model's score of the comment, kept in ``ctx.memo`` per task and model version."""
        key = f"classifier.score:{self.task.value}"
        found = ctx.memo.get(key)
        if found is not None and found[0] == model.version:
            return float(found[1])
        # Parley's models reuse the context's normalization and share work between tasks
        # (LinearEnsemble.score_one); any other Classifier scores the plain text.
        score_one = getattr(model, "score_one", None)
        if score_one is not None:
            score = float(score_one(ctx.text, ctx.normalized, ctx.memo))
        else:
            score = float(model.score([ctx.text])[0])
        ctx.memo[key] = (model.version, score)
        return score

    def prepare(self, ctx: ModerationContext) -> None:
        """Score ahead (the text and the site's policy are all a model reads); :meth:`run` decides."""
        if _policy(ctx).for_task(self.task).enabled:
            try:
                model = self._get_model()
            except ModelNotFound:
                return
            self._score(ctx, model)

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = _policy(ctx)
        settings = policy.for_task(self.task)
        if not settings.enabled:
            return PhaseResult.ok()
        try:
            model = self._get_model()
        except ModelNotFound:
            if policy.missing_model_fails:
                raise
            return PhaseResult(tags=frozenset({f"model_missing:{self.task.value}"}))
        score = self._score(ctx, model)
        scores = {self.task.value: round(score, 4)}
        holds = policy.holds(self.task)
        if settings.threshold is not None:
            threshold = settings.threshold
        elif holds:
            threshold = policy.hold_threshold
        else:
            threshold = float(model.threshold)
        reject = policy.reject_threshold if holds else None
        if reject is not None and score >= reject:
            verdict, threshold = Verdict.REJECT, reject
        elif score >= threshold and holds:
            verdict = Verdict.HOLD
        elif score >= threshold and settings.flag:
            verdict = Verdict.PUBLISH
        else:  # below the threshold, or a task that only records its score
            return PhaseResult(scores=scores, model_version=model.version)
        code = self.task.reason_code
        reason = make_reason(
            self.name,
            code,
            verdict,
            {"task": self.task.value, "score": round(score, 4), "threshold": round(threshold, 4)},
            evidence={"model_version": model.version, "task": self.task.value},
        )
        return PhaseResult(
            verdict=verdict,
            reasons=(reason,),
            scores=scores,
            tags=frozenset({code}),
            model_version=model.version,
        )


def classifier_phases() -> list[ClassifierPhase]:
    """The phases :func:`parley.moderation.pipeline.default_phases` runs, cheapest signal first."""
    return [ClassifierPhase(t) for t in (Task.OFFENSE, Task.TOXIC, Task.FACT_CLAIM, Task.ENGAGING)]
