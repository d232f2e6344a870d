"""The :class:`~parley.moderation.backends.RateStore` the processes of one machine share.

For ``parley serve --workers N`` without Redis (:func:`parley.db.machine.shares_on_machine`): one
row per event in the machine file (:class:`parley.db.machine.MachineFile`), indexed by key and
time. Events older than ``max_age`` are deleted now and then.

Failure modes follow the rate phase and the Redis store: :meth:`recent` raises, so the pipeline
records the phase as failed and lets the comment through with that evidence; :meth:`record` runs
after the comment is stored and only logs (at most once a minute, without the key).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

from parley.db.machine import MachineFile
from parley.logs import Warner

log = logging.getLogger("parley.moderation")
PRUNE_EVERY = 500  # records between two deletions of events too old to count


class MachineRateStore:
    def __init__(self, file: MachineFile, *, max_age: float = 2 * 86400) -> None:
        self._file = file
        self._max_age = max_age
        self._records = 0
        self._warner = Warner(log, "moderation rate event not stored")

    def recent(self, key: str, since: float) -> list[float]:
        with self._file.connection() as conn:
            rows = conn.execute(
                "SELECT ts FROM rate_events WHERE key = ? AND ts >= ? ORDER BY ts", (key, since)
            ).fetchall()
        return [float(r[0]) for r in rows]

    def count_each(self, windows: Sequence[tuple[str, float]]) -> list[int]:
        if not windows:
            return []
        # one statement: an arm per window, each a count over a range of the (key, ts) index,
        # numbered (UNION ALL promises no order)
        arm = "SELECT ?, count(*) FROM rate_events WHERE key = ? AND ts >= ?"
        sql = " UNION ALL ".join([arm] * len(windows))
        params = [v for i, (key, since) in enumerate(windows) for v in (i, key, since)]
        with self._file.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        counts = [0] * len(windows)
        for i, n in rows:
            counts[i] = int(n)
        return counts

    def record_each(self, keys: Sequence[str], ts: float) -> None:
        try:
            with self._file.transaction() as conn:  # one transaction for the comment's keys
                conn.executemany("INSERT INTO rate_events VALUES (?, ?)", [(key, ts) for key in keys])
                before, self._records = self._records, self._records + len(keys)
                if before // PRUNE_EVERY != self._records // PRUNE_EVERY:
                    conn.execute("DELETE FROM rate_events WHERE ts < ?", (ts - self._max_age,))
        except (sqlite3.Error, OSError) as exc:
            self._warner.warn("the machine's shared file failed", exc)

    def forget(self, author: str) -> None:
        """Drop every key of this author: ``<author>``, ``<author>:…`` and ``<site>:<author>``."""
        with self._file.connection() as conn:  # substr, not LIKE: LIKE ignores case and treats _ and %
            conn.execute(
                "DELETE FROM rate_events WHERE key = ?1 OR substr(key, 1, length(?2)) = ?2 "
                "OR substr(key, -length(?3)) = ?3",
                (author, author + ":", ":" + author),
            )

    def close(self) -> None:
        self._file.close()
