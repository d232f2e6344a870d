"""The classifier phases: one per task, scoring the comment with the project's own models.

Each phase loads its task's model through :func:`parley.classifiers.loader.load_classifier` (the
publisher's trained models first, then the shipped GermEval 2018 offense model), scores the
comment's plain text — the model folds it with :func:`parley.moderation.normalize.normalize` first,
so spaced, leet and look-alike spellings score like the plain word — and compares the score with
the site's threshold (:class:`parley.classifiers.settings.ClassifierPolicy`), by default the model's
``hold_threshold`` (the lowest score with 80 % precision on the validation split at training):

- ``offense`` → reason ``offensive``, ``toxic`` → reason ``toxic``: the comment is held;
- ``fact_claim`` → reason ``fact_claim``: flagged for moderators, published (``hold`` off by default);
- ``engaging`` (off by default) → reason ``engaging``: a positive signal, never held.

The score is always returned in ``scores`` (stored with the decision) with the model version.
Fails **closed**: a broken model holds the comment (``phase_failed``). A model that is simply not
installed (the toxic and fact-claim models are trained on the publisher's machine) skips the task
unless the policy's ``missing_model_fails`` says to hold instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from parley.classifiers.errors import ModelNotFound
from parley.classifiers.interfaces import Classifier
from parley.classifiers.loader import load_classifier
from parley.classifiers.settings import ClassifierPolicy
from parley.classifiers.tasks import Task
from parley.moderation.context import ModerationContext
from parley.moderation.types import FailMode, PhaseResult, Reason, Verdict

log = logging.getLogger(__name__)

# English templates of the reasons; ``{score}`` and ``{threshold}`` come from the reason's params.
DETAIL_TEMPLATES: dict[str, str] = {
    "offensive": "The offensive-language model scored this comment {score:.2f} "
    "(threshold {threshold:.2f}); it may insult or abuse someone.",
    "toxic": "The toxicity model scored this comment {score:.2f} (threshold {threshold:.2f}).",
    "fact_claim": "The fact-claim model scored this comment {score:.2f} (threshold {threshold:.2f}); "
    "it may state a checkable fact, flagged for a moderator.",
    "engaging": "The engagement model scored this comment {score:.2f} (threshold {threshold:.2f}).",
}
HELD_SUFFIX = " Held for a moderator."

ClassifierFactory = Callable[[Task], Classifier]


def _policy(ctx: ModerationContext) -> ClassifierPolicy:
    """The site's classifier settings; a policy that predates :class:`ClassifierPolicy` gets defaults."""
    raw = getattr(ctx.policy, "classifier", None)
    if isinstance(raw, ClassifierPolicy):
        return raw
    if raw is None:
        return ClassifierPolicy()
    data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
    known = {k: v for k, v in data.items() if k in ClassifierPolicy.model_fields}
    policy = ClassifierPolicy.model_validate(known)
    if data.get("enabled") is False:  # a placeholder-style master switch turns every task off
        policy = policy.model_copy(
            update={t.value: policy.for_task(t).model_copy(update={"enabled": False}) for t in Task}
        )
    return policy


class ClassifierPhase:
    """Scores the comment for one :class:`~parley.classifiers.tasks.Task`."""

    fail_mode = FailMode.CLOSED

    def __init__(self, task: Task | str = Task.OFFENSE, factory: ClassifierFactory | None = None) -> None:
        self.task = Task(task)
        self.name = f"classifier_{self.task.value}"
        self._factory: ClassifierFactory = factory or load_classifier

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = _policy(ctx)
        settings = policy.for_task(self.task)
        if not settings.enabled:
            return PhaseResult.ok()
        try:
            model = self._factory(self.task)
        except ModelNotFound:
            if policy.missing_model_fails:
                raise
            return PhaseResult(tags=frozenset({f"model_missing:{self.task.value}"}))
        score = float(model.score([ctx.text])[0])
        # The site's threshold, else the model's hold threshold (precision-oriented), else its
        # metric-tuned threshold.
        default = float(getattr(model, "hold_threshold", model.threshold))
        threshold = settings.threshold if settings.threshold is not None else default
        scores = {self.task.value: round(score, 4)}
        if score < threshold:
            return PhaseResult(scores=scores, model_version=model.version)
        code = self.task.reason_code
        held = settings.hold and self.task is not Task.ENGAGING
        verdict = Verdict.HOLD if held else Verdict.PUBLISH
        params = {"task": self.task.value, "score": round(score, 4), "threshold": round(threshold, 4)}
        detail = DETAIL_TEMPLATES[code].format(score=score, threshold=threshold) + (
            HELD_SUFFIX if held else ""
        )
        reason = Reason(
            phase=self.name,
            code=code,
            detail=detail,
            params=params,
            evidence={"model_version": model.version, "task": self.task.value},
            verdict=verdict,
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
