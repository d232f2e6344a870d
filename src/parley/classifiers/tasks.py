"""The classification tasks Parley ships models for, and what each one means for moderation."""

from __future__ import annotations

from enum import StrEnum


class Task(StrEnum):
    """A binary classification task. The value is stable: it names artifacts, scores and CLI options."""

    OFFENSE = "offense"
    """Insults, abuse, profanity aimed at someone (GermEval 2018 coarse OFFENSE)."""
    TOXIC = "toxic"
    """Toxic comments in news discussions (GermEval 2021 subtask 1)."""
    ENGAGING = "engaging"
    """Engaging, constructive comments (GermEval 2021 subtask 2); a positive signal, never held."""
    FACT_CLAIM = "fact_claim"
    """Comments that claim a checkable fact (GermEval 2021 subtask 3); flagged for moderators."""

    @property
    def reason_code(self) -> str:
        """The moderation reason code a positive score produces."""
        return _REASON_CODES[self]

    @property
    def label_name(self) -> str:
        """Human-readable name of the positive class (English)."""
        return _LABEL_NAMES[self]


_REASON_CODES = {
    Task.OFFENSE: "offensive",
    Task.TOXIC: "toxic",
    Task.ENGAGING: "engaging",
    Task.FACT_CLAIM: "fact_claim",
}

_LABEL_NAMES = {
    Task.OFFENSE: "offensive",
    Task.TOXIC: "toxic",
    Task.ENGAGING: "engaging",
    Task.FACT_CLAIM: "fact-claiming",
}
