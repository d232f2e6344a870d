"""Refuse comments on closed threads (new comments only; edits of old comments too)."""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.types import FailMode, PhaseResult, Reason, Refusal, Verdict


class ThreadStatePhase:
    name = "thread_state"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        if ctx.thread.is_open:
            return PhaseResult.ok()
        reason = Reason(
            phase=self.name,
            code="thread_closed",
            detail="Comments on this story are closed.",
            verdict=Verdict.REJECT,
        )
        return PhaseResult(
            verdict=Verdict.REJECT,
            reasons=(reason,),
            refusal=Refusal("thread_closed", 409, "Comments on this story are closed."),
        )
