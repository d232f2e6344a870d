"""Flood and rate limits per author (account or guest session), per hashed IP, and per story.

Exceeding an author or IP limit refuses the comment (HTTP 429 with Retry-After; ``parley moderate``
reports a ``reject``): nothing is stored, so the author can post it a little later. A story flooded
by many people holds instead. Applies only when the comment's time is known; staff are exempt.
Fails open: a broken counter store must not stop every comment.
"""

from __future__ import annotations

import math

from parley.moderation.backends import author_key
from parley.moderation.context import ModerationContext
from parley.moderation.messages import make_reason
from parley.moderation.policy import RateRule
from parley.moderation.types import FailMode, PhaseResult, Reason, Refusal, Verdict

STAFF_ROLES = frozenset({"moderator", "admin"})


def rate_keys(ctx: ModerationContext) -> list[str]:
    """The keys this comment counts under (the recorder adds one event to each)."""
    keys = [f"{ctx.site_slug}:{author_key(ctx.author)}"]
    if ctx.author.ip_hash:
        keys.append(f"{ctx.site_slug}:ip:{ctx.author.ip_hash}")
    keys.append(thread_key(ctx))
    return keys


def thread_key(ctx: ModerationContext) -> str:
    return f"{ctx.site_slug}:thread:{ctx.thread.key}"


class RatePhase:
    name = "rate"
    fail_mode = FailMode.OPEN

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = ctx.policy.rate
        if not ctx.timed or not policy.enabled or ctx.backends is None or ctx.author.role in STAFF_ROLES:
            return PhaseResult.ok()
        store = ctx.backends.rates
        now = ctx.now.timestamp()
        author = f"{ctx.site_slug}:{author_key(ctx.author)}"
        checks: list[tuple[str, str, RateRule]] = []
        if policy.flood is not None:
            checks.append(("flood", author, policy.flood))
        checks += [("rate_limited", author, rule) for rule in policy.rate]
        if ctx.author.ip_hash:
            checks += [("rate_limited", f"{ctx.site_slug}:ip:{ctx.author.ip_hash}", r) for r in policy.ip]
        # every rule's window counted at once by the store (one statement or round trip in the
        # writers' lock, where there was a read of every event per rule); the events themselves
        # are read only for a rule that is exceeded, to tell when it lets the author post again
        windows = [(key, now - rule.per_seconds) for _, key, rule in checks]
        if policy.thread is not None:
            windows.append((thread_key(ctx), now - policy.thread.per_seconds))
        counts = store.count_each(windows)
        worst: tuple[float, str, RateRule] | None = None
        for (code, key, rule), count in zip(checks, counts[: len(checks)], strict=True):
            if count < rule.max:
                continue
            times = store.recent(key, now - rule.per_seconds)
            if len(times) >= rule.max:
                wait = times[-rule.max] + rule.per_seconds - now  # when the oldest counted one expires
                if worst is None or wait > worst[0]:
                    worst = (wait, code, rule)
        if worst is not None:
            wait, code, rule = worst
            retry = max(1, math.ceil(wait))
            params = {"limit": rule.max, "seconds": rule.per_seconds, "retry_after": retry}
            reason = make_reason(self.name, code, Verdict.REJECT, params)
            refusal = Refusal("rate_limited", 429, "Too many requests. Please wait a moment.", params)
            return PhaseResult(verdict=Verdict.REJECT, reasons=(reason,), refusal=refusal)
        if policy.thread is not None:
            rule = policy.thread
            count = counts[-1]
            if count >= rule.max:
                params = {"count": count, "seconds": rule.per_seconds, "limit": rule.max}
                reasons: tuple[Reason, ...] = (make_reason(self.name, "thread_flood", Verdict.HOLD, params),)
                return PhaseResult(verdict=Verdict.HOLD, reasons=reasons, tags=frozenset({"thread_flood"}))
        return PhaseResult.ok()
