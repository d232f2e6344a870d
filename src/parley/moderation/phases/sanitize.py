"""Refuse bodies that are empty once rendered and sanitized (only markup, invisible characters).

Rendering and sanitizing happen before the pipeline (``parley.comments.rendering``); this phase
checks what is left, so a body of zero-width spaces or bare Markdown syntax never gets stored.
"""

from __future__ import annotations

import unicodedata

from parley.moderation.context import ModerationContext
from parley.moderation.types import FailMode, PhaseResult, Reason, Refusal, Verdict


def visible_chars(text: str) -> int:
    """Characters a reader can see: not whitespace, not format/control/unassigned code points."""
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE)


_INVISIBLE = frozenset({"Cf", "Cc", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})


def has_visible(text: str) -> bool:
    """Whether any character is visible; stops at the first (usually the first character)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE for ch in text)


class SanitizePhase:
    name = "sanitize"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        if has_visible(ctx.text):
            return PhaseResult.ok()
        detail = "Nothing visible is left of the comment after formatting and sanitizing."
        return PhaseResult(
            verdict=Verdict.REJECT,
            reasons=(Reason(phase=self.name, code="body_empty", detail=detail, verdict=Verdict.REJECT),),
            refusal=Refusal("body_too_short", 422, "The comment is empty."),
        )
