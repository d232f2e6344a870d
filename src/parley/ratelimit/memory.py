"""The in-process :class:`~parley.ratelimit.interfaces.RateLimiter`: one dict under one lock.

Right for one app process (``parley serve`` without ``--workers``, tests). Several workers or
instances each count on their own; configure ``redis_url`` to share the counts.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from parley.ratelimit.interfaces import Outcome, admits, counts_at, retry_after, window_index
from parley.ratelimit.rules import Rule

MAX_KEYS = 200_000  # beyond this, counters of windows that no longer count are dropped


class _Counter(NamedTuple):
    window_no: int  # the fixed window ``current`` counts in
    previous: int
    current: int
    window: float


class InMemoryRateLimiter:
    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._counters: dict[tuple[str, str], _Counter] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, rule: Rule, now: float) -> Outcome:
        index, fraction = window_index(now, rule)
        slot = (rule.name, key)
        with self._lock:
            stored = self._counters.get(slot)
            previous, current = counts_at(index, stored[:3] if stored is not None else None)
            if not admits(previous, current, fraction, rule.limit):
                return Outcome(False, retry_after(previous, current, fraction, rule))
            self._counters[slot] = _Counter(index, previous, current + 1, rule.window)
            if len(self._counters) > self._max_keys:
                self._prune(now)
        return Outcome(True)

    def _prune(self, now: float) -> None:
        """Drop counters whose windows no longer count; if every counter is live, the older half
        goes: a flood of fresh keys must not grow memory without bound, and a forgotten counter
        only ever forgives, it never blocks anyone."""
        self._counters = {slot: c for slot, c in self._counters.items() if (c.window_no + 2) * c.window > now}
        if len(self._counters) > self._max_keys:
            ordered = sorted(self._counters.items(), key=lambda item: item[1].window_no * item[1].window)
            self._counters = dict(ordered[len(ordered) // 2 :])

    def close(self) -> None:
        return None
