"""Refuse bodies outside the site's length limits.

The maximum applies to the source the author typed (what we store), the minimum to the plain text
readers would see (so "** **" is empty, not two characters long).
"""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.types import FailMode, PhaseResult, Reason, Refusal, Verdict


class LengthPhase:
    name = "length"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        limit = ctx.policy.max_length
        size = len(ctx.source)
        if size > limit:
            params = {"length": size, "limit": limit}
            return _refuse(
                self.name,
                "body_too_long",
                f"The comment is {size} characters long; the limit is {limit}.",
                params,
                "The comment is too long.",
            )
        minimum = max(1, ctx.policy.min_length)
        visible = len(ctx.text.strip())
        if visible < minimum:
            params = {"length": visible, "limit": minimum}
            return _refuse(
                self.name,
                "body_too_short",
                f"The comment has {visible} visible characters; at least {minimum} are needed.",
                params,
                "The comment is too short.",
            )
        return PhaseResult.ok()


def _refuse(phase: str, code: str, detail: str, params: dict[str, int], message: str) -> PhaseResult:
    return PhaseResult(
        verdict=Verdict.REJECT,
        reasons=(Reason(phase=phase, code=code, detail=detail, params=params, verdict=Verdict.REJECT),),
        refusal=Refusal(code, 422, message, params),
    )
