"""The :class:`RateLimiter` Protocol and the sliding-window counter every implementation uses.

A *sliding window counter* keeps two numbers per key and rule: the hits of the current fixed window
and of the one before. The count over the last ``window`` seconds is estimated as
``previous × (1 − elapsed/window) + current`` — O(1) memory per key, exact at window borders,
never more than one request over the limit in between, and the same arithmetic whether the two
numbers live in a dict or in Redis. A hit is admitted when ``estimate + 1 ≤ limit``; a refused hit
is not counted, so a client that backs off gets back in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from parley.ratelimit.rules import Rule


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one hit: admitted or not, and when a refused client may try again."""

    allowed: bool
    retry_after: float = 0.0
    """Seconds until a hit would be admitted (0 when admitted)."""


class RateLimiter(Protocol):
    """Counts hits per key and rule. Implementations must be safe for concurrent callers: two
    simultaneous hits on the last free slot admit exactly one."""

    def hit(self, key: str, rule: Rule, now: float) -> Outcome:
        """Count one request under ``key`` for ``rule`` at ``now`` (Unix seconds) unless refused."""
        ...

    def close(self) -> None:
        """Release connections (the registry calls this when the app stops)."""
        ...


class NullRateLimiter:
    """Admits everything (``rate_limits_enabled = false``: benchmarks)."""

    def hit(self, key: str, rule: Rule, now: float) -> Outcome:
        return Outcome(True)

    def close(self) -> None:
        return None


def window_index(now: float, rule: Rule) -> tuple[int, float]:
    """The fixed window ``now`` falls in, and the fraction of it that has passed."""
    index = math.floor(now / rule.window)
    return index, (now - index * rule.window) / rule.window


def counts_at(index: int, stored: tuple[int, int, int] | None) -> tuple[int, int]:
    """The previous and current window's counts at window ``index``, from what a store kept:
    ``(window_no, previous, current)`` of the last admitted hit, or None. Older windows count 0."""
    if stored is None:
        return 0, 0
    window_no, previous, current = stored
    if window_no == index:
        return previous, current
    if window_no == index - 1:
        return current, 0
    return 0, 0


def admits(previous: float, current: float, fraction: float, limit: int) -> bool:
    return previous * (1.0 - fraction) + current + 1.0 <= limit


def retry_after(previous: float, current: float, fraction: float, rule: Rule) -> float:
    """Seconds until one more hit is admitted, if nobody hits in between.

    Within this window the previous window's share shrinks linearly; if the current window alone
    is full, the wait runs into the next one, where the current count becomes the shrinking share.
    """
    w, free = rule.window, rule.limit - 1.0
    elapsed = fraction * w
    if current <= free:
        if previous <= 0:
            return 0.0
        return max(0.0, w * (1.0 - (free - current) / previous) - elapsed)
    return (w - elapsed) + w * (1.0 - free / current)
