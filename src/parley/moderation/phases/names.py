"""A comment shown under a name that looks like another account's or a reserved name.

Registration and renames are refused by the accounts domain already; this phase catches what gets
past that: guest names, names older than the check, and batch input. Fails closed.
"""

from __future__ import annotations

import unicodedata

from parley.moderation.context import ModerationContext
from parley.moderation.messages import make_reason
from parley.moderation.names import NameStatus, evaluate_name, remembered
from parley.moderation.types import FailMode, PhaseResult, Verdict

STAFF_ROLES = frozenset({"moderator", "admin"})


class NamesPhase:
    name = "names"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        shown = ctx.author.name.strip()
        if not shown:
            return PhaseResult.ok()
        policy = ctx.policy.names
        registry = ctx.backends.names if ctx.backends is not None else None
        check = evaluate_name(
            shown,
            lookup=remembered(ctx.memo, registry.holder) if registry is not None else None,
            account_id=ctx.author.account_id,
            reserved=policy.reserved,
            reserved_fragments=policy.reserved_fragments,
            site_name=ctx.site_name or None,
            staff=ctx.author.role in STAFF_ROLES,
        )
        tags = frozenset({"name_mixed_script"}) if _mixed_script(shown) else frozenset()
        if check.status not in (NameStatus.TAKEN, NameStatus.RESERVED):
            return PhaseResult(tags=tags)
        reserved = check.status is NameStatus.RESERVED
        verdict = Verdict(policy.reserved_verdict if reserved else policy.collision_verdict)
        evidence: dict[str, object] = {"colliding_name": check.collides_with, "skeleton": check.skeleton}
        if check.holder is not None and check.holder.account_id is not None:
            evidence["colliding_account"] = check.holder.account_id
        reason = make_reason(
            self.name,
            "name_impersonation",
            verdict,
            {"name": shown, "other": check.collides_with, "kind": "reserved" if reserved else "account"},
            evidence=evidence,
        )
        return PhaseResult(verdict=verdict, reasons=(reason,), tags=tags)


def _mixed_script(name: str) -> bool:
    """Letters from more than one script (Latin with a Greek ϋ): worth a tag, not a verdict."""
    scripts = {unicodedata.name(c, "?").split(" ", 1)[0] for c in name if c.isalpha()}
    return len(scripts) > 1
