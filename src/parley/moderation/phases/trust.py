"""Trust: suspended and banned accounts, always-pre-moderated accounts, new authors, and authors
whose recent comments were mostly rejected.

Suspended or banned accounts are refused (403, nothing stored). The rest hold. New-author
pre-moderation and the rejection-rate rule are off for a new site (see :class:`TrustPolicy`).
Staff are exempt; verified accounts skip new-author pre-moderation. Fails closed.
"""

from __future__ import annotations

from parley.moderation.backends import author_key
from parley.moderation.context import ModerationContext
from parley.moderation.messages import make_reason
from parley.moderation.types import FailMode, PhaseResult, Reason, Refusal, Verdict

STAFF_ROLES = frozenset({"moderator", "admin"})
_REFUSED = {
    "suspended": ("account_suspended", "This account is suspended."),
    "banned": ("account_banned", "This account is banned."),
}


class TrustPhase:
    name = "trust"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        author = ctx.author
        if author.status in _REFUSED:
            code, message = _REFUSED[author.status]
            reason = make_reason(self.name, code, Verdict.REJECT)
            return PhaseResult(verdict=Verdict.REJECT, reasons=(reason,), refusal=Refusal(code, 403, message))
        if author.role in STAFF_ROLES:
            return PhaseResult.ok()
        reasons: list[Reason] = []
        if author.always_premoderate:
            reasons.append(make_reason(self.name, "always_premoderate", Verdict.HOLD))
        policy = ctx.policy.trust
        wants_history = (
            policy.premoderate_first > 0 and not author.verified
        ) or policy.rejection_rate is not None
        if wants_history and ctx.backends is not None:
            stats = ctx.backends.history.stats(author_key(author))
            if not author.verified and stats.published + stats.held < policy.premoderate_first:
                params = {"limit": policy.premoderate_first, "count": stats.published + stats.held}
                reasons.append(make_reason(self.name, "new_author", Verdict.HOLD, params))
            recent = stats.recent[-policy.rejection_window :]
            if policy.rejection_rate is not None and len(recent) >= policy.rejection_min_comments:
                rejected = sum(1 for v in recent if v is Verdict.REJECT)
                if rejected / len(recent) >= policy.rejection_rate:
                    params = {"rejected": rejected, "total": len(recent)}
                    reasons.append(make_reason(self.name, "low_trust", Verdict.HOLD, params))
        if not reasons:
            return PhaseResult.ok()
        return PhaseResult(verdict=Verdict.HOLD, reasons=tuple(reasons))
