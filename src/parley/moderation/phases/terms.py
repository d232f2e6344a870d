"""Banned terms reject, suspect terms hold: matched on the normalized text (see :mod:`..terms`).

Fails closed: if the matcher breaks, the comment is held rather than published unchecked.
"""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.messages import make_reason
from parley.moderation.terms import compile_terms
from parley.moderation.types import FailMode, PhaseResult, Reason, Verdict


class TermsPhase:
    name = "terms"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = ctx.policy.terms
        if not policy.banned and not policy.suspect:
            return PhaseResult.ok()
        matches = compile_terms(policy).find(ctx.normalized)
        if not matches:
            return PhaseResult.ok()
        reasons: list[Reason] = []
        tags: set[str] = set()
        for m in matches:
            banned = m.term.kind == "banned"
            verdict = Verdict.REJECT if banned else Verdict.HOLD
            reasons.append(
                make_reason(
                    self.name,
                    "banned_term" if banned else "suspect_term",
                    verdict,
                    {"term": m.term.raw, "written": m.written},
                    span=m.span,
                    evidence={"count": m.count, "mode": m.term.mode.value, "evasions": list(m.evasions)},
                )
            )
            tags.update(f"evasion:{e}" for e in m.evasions)
        return PhaseResult(
            verdict=Verdict.strongest(r.verdict for r in reasons),
            reasons=tuple(reasons),
            tags=frozenset(tags),
        )
