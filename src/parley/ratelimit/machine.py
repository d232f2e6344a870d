"""The :class:`~parley.ratelimit.interfaces.RateLimiter` the processes of one machine share.

For ``parley serve --workers N`` without Redis (:func:`parley.db.machine.shares_on_machine`): the
two window counters of every key live in the machine file (:class:`parley.db.machine.MachineFile`),
read and written in one ``BEGIN IMMEDIATE`` transaction, so two workers racing for the last free
slot admit one request, as the Redis script does. Counters whose windows no longer count are
deleted now and then.

Fails open, as the Redis limiter does: when the file cannot be written the request is admitted and a
warning logged (without the key, which holds a hashed address).
"""

from __future__ import annotations

import logging
import sqlite3

from parley.db.machine import MachineFile
from parley.logs import Warner
from parley.ratelimit.interfaces import Outcome, admits, counts_at, retry_after, window_index
from parley.ratelimit.rules import Rule

log = logging.getLogger("parley.ratelimit")
PRUNE_EVERY = 1000  # hits between two deletions of dead counters


class MachineRateLimiter:
    def __init__(self, file: MachineFile, *, warn_every: float = 60.0) -> None:
        self._file = file
        self._warner = Warner(log, "rate limits not applied", warn_every)
        self._hits = 0

    def hit(self, key: str, rule: Rule, now: float) -> Outcome:
        index, fraction = window_index(now, rule)
        try:
            with self._file.transaction() as conn:
                row = conn.execute(
                    "SELECT window_no, previous, current FROM rate_counters WHERE rule = ? AND key = ?",
                    (rule.name, key),
                ).fetchone()
                previous, current = counts_at(index, row)
                if not admits(previous, current, fraction, rule.limit):
                    return Outcome(False, retry_after(previous, current, fraction, rule))
                conn.execute(
                    "INSERT OR REPLACE INTO rate_counters VALUES (?, ?, ?, ?, ?, ?)",
                    (rule.name, key, index, previous, current + 1, (index + 2) * rule.window),
                )
                self._hits += 1
                if self._hits % PRUNE_EVERY == 0:
                    conn.execute("DELETE FROM rate_counters WHERE expires <= ?", (now,))
        except (sqlite3.Error, OSError) as exc:
            self._warner.warn("the machine's shared file failed", exc)
            return Outcome(True)
        return Outcome(True)

    def close(self) -> None:
        self._file.close()
