"""Per-site classifier settings, embedded in the site's moderation policy.

``ModerationPolicy`` holds a :class:`ClassifierPolicy` (field ``classifier``); the classifier phases
read it. A threshold of ``None`` means the model's ``hold_threshold``: the lowest score at which the
validation precision reached 80 % when the model was trained (stored in the artifact).
Defaults are those of a new site: offense and toxicity hold, fact claims are flagged for
moderators without holding, engagement is off.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from parley.classifiers.tasks import Task


class TaskSettings(BaseModel):
    """How one task's score is used on a site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Run this classifier on new and edited comments.")
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Score at or above which the reason is recorded; None = the model's hold threshold.",
    )
    hold: bool = Field(
        True, description="Hold the comment for a moderator when the score reaches the threshold."
    )


def _offense() -> TaskSettings:
    return TaskSettings(enabled=True, hold=True)


def _toxic() -> TaskSettings:
    return TaskSettings(enabled=True, hold=True)


def _fact_claim() -> TaskSettings:
    return TaskSettings(enabled=True, hold=False)


def _engaging() -> TaskSettings:
    return TaskSettings(enabled=False, hold=False)


class ClassifierPolicy(BaseModel):
    """Classifier knobs of one site (``ModerationPolicy.classifiers``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offense: TaskSettings = Field(default_factory=_offense, description="Insults and abuse (GermEval 2018).")
    toxic: TaskSettings = Field(default_factory=_toxic, description="Toxic comments (GermEval 2021).")
    fact_claim: TaskSettings = Field(
        default_factory=_fact_claim, description="Checkable fact claims: flagged for moderators, not held."
    )
    engaging: TaskSettings = Field(
        default_factory=_engaging, description="Engaging comments: a positive signal."
    )
    missing_model_fails: bool = Field(
        False,
        description="Hold comments when an enabled model is not installed (True) or skip that task (False).",
    )

    def for_task(self, task: Task) -> TaskSettings:
        settings: TaskSettings = getattr(self, task.value)
        return settings
