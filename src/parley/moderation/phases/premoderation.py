"""Hold every comment when the site or the story is pre-moderated."""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.types import FailMode, PhaseResult, Reason, Verdict


class PremoderationPhase:
    name = "premoderation"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        story = ctx.thread.premoderate
        on = story if story is not None else ctx.policy.premoderate_all
        if not on or ctx.author.role in ("moderator", "admin"):
            return PhaseResult.ok()
        scope = "story" if story is not None else "site"
        reason = Reason(
            phase=self.name,
            code="premoderation",
            detail=f"Comments on this {scope} are checked by a moderator before they appear.",
            params={"scope": scope},
            verdict=Verdict.HOLD,
        )
        return PhaseResult(verdict=Verdict.HOLD, reasons=(reason,))
