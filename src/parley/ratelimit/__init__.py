"""Request rate limits: how often one account, address or e-mail may knock on one door.

=============================== ==========================================================
module                          what it holds
=============================== ==========================================================
:mod:`.rules`                   :class:`Rule` (N requests per window), the :class:`Action`
                                doors and the rules the settings give each of them
:mod:`.interfaces`              the :class:`RateLimiter` Protocol, :class:`Outcome`, and the
                                sliding-window arithmetic every implementation shares
:mod:`.memory`                  :class:`InMemoryRateLimiter` (one process)
:mod:`.redis_backend`           :class:`RedisRateLimiter` (every instance that shares Redis)
:mod:`.machine`                 :class:`MachineRateLimiter` (the processes of one machine,
                                without Redis: :mod:`parley.db.machine`)
:mod:`.guard`                   :func:`enforce`, what a view calls before it does the work
=============================== ==========================================================

The registry holds one :class:`RateLimits` per process (a limiter and the rules from the settings):
Redis when ``redis_url`` is set, else the machine's shared file with several workers, else in
process; :class:`NullRateLimiter` when ``rate_limits_enabled`` is off (benchmarks). Comment
*posting* is limited by the moderation pipeline's rate phase (per-site policy, with reasons the
author can read); these limits guard the other doors: logins, registrations, votes, reports,
appeals, SSO exchanges and new guest identities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parley.config import Settings
from parley.db.machine import machine_file_for
from parley.ratelimit.interfaces import NullRateLimiter, Outcome, RateLimiter
from parley.ratelimit.memory import InMemoryRateLimiter
from parley.ratelimit.rules import Action, Rule, RuleSet, Subject, parse_rule, rules_for

__all__ = [
    "Action",
    "InMemoryRateLimiter",
    "NullRateLimiter",
    "Outcome",
    "RateLimiter",
    "RateLimits",
    "Rule",
    "Subject",
    "build_limiter",
    "parse_rule",
    "rules_for",
]


def build_limiter(settings: Settings) -> RateLimiter:
    """The limiter the settings ask for: Redis, the machine's shared file (several processes without
    Redis), or the process (the Redis client is imported only when configured)."""
    if not settings.rate_limits_enabled:
        return NullRateLimiter()
    if settings.redis_url:
        from parley.ratelimit.redis_backend import RedisRateLimiter

        return RedisRateLimiter.from_url(settings.redis_url)
    machine = machine_file_for(settings)
    if machine is not None:
        from parley.ratelimit.machine import MachineRateLimiter

        return MachineRateLimiter(machine)
    return InMemoryRateLimiter()


@dataclass
class RateLimits:
    """A limiter and the rules of every door: what the registry holds and views consult."""

    limiter: RateLimiter
    rules: RuleSet

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(build_limiter(settings), rules_for(settings))

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No limits at all (a registry built by hand, e.g. for a CLI command)."""
        return cls(NullRateLimiter(), rules_for(Settings()))

    def check(self, action: Action, subjects: Mapping[Subject, str | None], now: float) -> Outcome:
        """Count one request against each rule of ``action`` whose subject is known.

        Refused when any rule refuses (the wait is the longest of them). A rule that refuses does
        not count the request; the others (checked before it) already did, which only errs on the
        strict side.
        """
        wait: float | None = None
        for subject, rule in self.rules[action]:
            key = subjects.get(subject)
            if key is None:
                continue
            outcome = self.limiter.hit(key, rule, now)
            if not outcome.allowed:
                wait = max(wait or 0.0, outcome.retry_after)
        return Outcome(True) if wait is None else Outcome(False, wait)

    def close(self) -> None:
        self.limiter.close()
