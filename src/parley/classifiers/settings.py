"""Per-site classifier settings: :class:`ClassifierPolicy`, the ``classifier`` table of a site's
moderation policy (``ModerationPolicy.classifier``, ``[classifier]`` in ``parley moderate --config``).

What a classifier phase does with a score, per task:

- the score is always recorded with the decision (moderators see it in the workspace), whatever
  the settings — unless the task is switched off (``enabled = false``);
- at or above the task's threshold, a **holding** task (``hold = true``) holds the comment with a
  reason (``offensive``, ``toxic``); a **flagging** task (``hold = false``: fact claims by default)
  adds a reason for moderators and publishes. A task with ``flag = false`` and ``hold = false``
  only records its score: no reason, so the comment's statement of reasons stays empty;
- a holding task's threshold defaults to the site-wide :attr:`ClassifierPolicy.hold_threshold` (the
  workspace's "Classifier: hold at score"), a flagging task's to the model's own threshold.

Scores of models trained by Parley are calibrated probabilities (Platt scaling on out-of-fold
scores), so one site-wide number means the same for every task. The defaults, and the evidence for
them, are in ``docs/decisions/0005-classifier-defaults.md``: on a new site the shipped offense
model holds only at 0.85 and above, toxicity (a model a publisher trains) likewise, fact claims
are flagged and never held, engagement is off.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from parley.classifiers.tasks import Task

DEFAULT_HOLD_THRESHOLD = 0.85
"""Calibrated score at or above which a holding task holds on a new site (ADR 0005)."""


class TaskSettings(BaseModel):
    """How one task's score is used on a site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Run this classifier on new and edited comments.")
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Score at or above which the task acts; None: the site's hold_threshold for a "
        "holding task, the model's own threshold for a flagging one.",
    )
    hold: bool = Field(
        True, description="Hold the comment for a moderator when the score reaches the threshold."
    )
    flag: bool = Field(
        True,
        description="When not holding: add a reason for moderators at the threshold (False: the score "
        "is only recorded).",
    )


def _offense() -> TaskSettings:
    return TaskSettings(enabled=True, hold=True)


def _toxic() -> TaskSettings:
    return TaskSettings(enabled=True, hold=True)


def _fact_claim() -> TaskSettings:
    return TaskSettings(enabled=True, hold=False, flag=True)


def _engaging() -> TaskSettings:
    return TaskSettings(enabled=False, hold=False, flag=False)


class ClassifierPolicy(BaseModel):
    """Classifier knobs of one site (``ModerationPolicy.classifier``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Master switch: False turns every classifier phase off.")
    hold_threshold: float = Field(
        DEFAULT_HOLD_THRESHOLD,
        ge=0.0,
        le=1.0,
        description="Calibrated score at or above which a holding task holds (unless the task sets "
        "its own threshold).",
    )
    reject_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Score at or above which a holding task rejects outright (None: never).",
    )
    offense: TaskSettings = Field(default_factory=_offense, description="Insults and abuse (GermEval 2018).")
    toxic: TaskSettings = Field(default_factory=_toxic, description="Toxic comments (GermEval 2021).")
    fact_claim: TaskSettings = Field(
        default_factory=_fact_claim, description="Checkable fact claims: flagged for moderators, not held."
    )
    engaging: TaskSettings = Field(
        default_factory=_engaging, description="Engaging comments: a positive signal, never held."
    )
    missing_model_fails: bool = Field(
        False,
        description="Hold comments when an enabled model is not installed (True) or skip that task (False).",
    )

    def for_task(self, task: Task) -> TaskSettings:
        settings: TaskSettings = getattr(self, task.value)
        if not self.enabled and settings.enabled:
            return settings.model_copy(update={"enabled": False})
        return settings

    def holds(self, task: Task) -> bool:
        """Whether ``task`` may hold on this site (engagement never does)."""
        return task is not Task.ENGAGING and self.for_task(task).hold
