"""In-memory implementations of the moderation stores (``parley moderate``, tests, one small instance).

They keep everything for the life of the process and are guarded by one lock each, so a threaded
server can share them. They are not shared between processes: that is what the database and Redis
implementations are for.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Sequence

import numpy as np

from parley.moderation.backends import AuthorStats
from parley.moderation.copies import NUM_PERM, CommentKey, CopyEntry
from parley.moderation.names import NameHolder
from parley.moderation.types import Verdict


class _BandTable:
    """Bucket key → entry number(s): one dict, a list only where a bucket is shared.

    O(1) per bucket whatever the size (16 dict reads per lookup); the price is memory, about 100
    bytes per bucket, so some 1.6 KB per comment at 16 bands: fine for a CLI run or a small site,
    and the reason the database implementation exists for large ones.
    """

    def __init__(self) -> None:
        self.buckets: dict[int, int | list[int]] = {}

    def add(self, keys: Sequence[int], value: int) -> None:
        buckets = self.buckets
        for k in keys:
            current = buckets.get(k)
            if current is None:
                buckets[k] = value
            elif isinstance(current, list):
                current.append(value)
            else:
                buckets[k] = [current, value]

    def lookup(self, keys: Sequence[int]) -> set[int]:
        out: set[int] = set()
        buckets = self.buckets
        for k in keys:
            current = buckets.get(k)
            if current is None:
                continue
            if isinstance(current, list):
                out.update(current)
            else:
                out.add(current)
        return out


class _SiteCopies:
    def __init__(self) -> None:
        self.bands = _BandTable()
        self.sigs = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self.ids: list[CommentKey] = []
        self.authors: list[str] = []
        self.ts: list[float] = []
        self.waves: list[CommentKey] = []
        self.number: dict[CommentKey, int] = {}

    def add(self, entry: CopyEntry, bands: Sequence[int]) -> None:
        n = len(self.ids)
        if n == len(self.sigs):
            grown = np.empty((2 * n, NUM_PERM), dtype=np.uint32)
            grown[:n] = self.sigs
            self.sigs = grown
        self.sigs[n] = entry.signature
        self.ids.append(entry.comment_id)
        self.authors.append(entry.author)
        self.ts.append(entry.ts)
        self.waves.append(entry.wave_id)
        self.number[entry.comment_id] = n
        self.bands.add(bands, n)

    def entry(self, n: int) -> CopyEntry:
        return CopyEntry(self.ids[n], self.authors[n], self.ts[n], self.sigs[n].copy(), self.waves[n])


class InMemoryCopyIndex:
    def __init__(self) -> None:
        self._sites: dict[str, _SiteCopies] = {}
        self._forgotten: set[str] = set()
        self._lock = threading.Lock()

    def candidates(self, site: str, bands: Sequence[int], since: float) -> list[CopyEntry]:
        with self._lock:
            s = self._sites.get(site)
            if s is None:
                return []
            found = [s.entry(n) for n in sorted(s.bands.lookup(bands)) if s.ts[n] >= since]
            return [e for e in found if e.author not in self._forgotten] if self._forgotten else found

    def forget(self, author: str) -> None:
        with self._lock:
            self._forgotten.add(author)

    def add(self, site: str, entry: CopyEntry, bands: Sequence[int], *, fresh: bool = False) -> None:
        with self._lock:
            self._sites.setdefault(site, _SiteCopies()).add(entry, bands)

    def wave_of(self, site: str, comment_id: CommentKey) -> CommentKey | None:
        with self._lock:
            s = self._sites.get(site)
            n = s.number.get(comment_id) if s else None
            return s.waves[n] if s is not None and n is not None else None

    def __len__(self) -> int:
        return sum(len(s.ids) for s in self._sites.values())


class InMemoryRateStore:
    def __init__(self, max_age: float = 2 * 86400) -> None:
        self._events: dict[str, list[float]] = {}
        self._max_age = max_age
        self._lock = threading.Lock()

    def recent(self, key: str, since: float) -> list[float]:
        with self._lock:
            times = self._events.get(key)
            if not times:
                return []
            return times[bisect_left(times, since) :]

    def count_each(self, windows: Sequence[tuple[str, float]]) -> list[int]:
        with self._lock:
            counts = []
            for key, since in windows:
                times = self._events.get(key) or []
                counts.append(len(times) - bisect_left(times, since))
            return counts

    def forget(self, author: str) -> None:
        """Drop every key of this author: ``acct:1``, ``acct:1:…`` and ``<site>:acct:1`` (the rate
        phase counts under the site's slug and the author key)."""
        with self._lock:
            mine = [
                k
                for k in self._events
                if k == author or k.startswith(author + ":") or k.endswith(":" + author)
            ]
            for key in mine:
                del self._events[key]

    def record_each(self, keys: Sequence[str], ts: float) -> None:
        with self._lock:
            for key in keys:
                times = self._events.setdefault(key, [])
                insort(times, ts)
                cut = bisect_left(times, times[-1] - self._max_age)
                if cut:
                    del times[:cut]


class InMemoryAuthorHistory:
    def __init__(self, keep_recent: int = 100) -> None:
        self._totals: dict[str, list[int]] = {}
        self._recent: dict[str, deque[Verdict]] = {}
        self._keep = keep_recent
        self._lock = threading.Lock()

    def stats(self, author: str) -> AuthorStats:
        with self._lock:
            totals = self._totals.get(author)
            if totals is None:
                return AuthorStats()
            return AuthorStats(totals[0], totals[1], totals[2], tuple(self._recent[author]))

    def forget(self, author: str) -> None:
        with self._lock:
            self._totals.pop(author, None)
            self._recent.pop(author, None)

    def record(self, author: str, verdict: Verdict) -> None:
        with self._lock:
            totals = self._totals.setdefault(author, [0, 0, 0])
            totals[(Verdict.PUBLISH, Verdict.HOLD, Verdict.REJECT).index(verdict)] += 1
            self._recent.setdefault(author, deque(maxlen=self._keep)).append(verdict)


class InMemoryNameRegistry:
    def __init__(self) -> None:
        self._holders: dict[str, NameHolder] = {}
        self._lock = threading.Lock()

    def holder(self, skeleton: str) -> NameHolder | None:
        with self._lock:
            return self._holders.get(skeleton)

    def claim(self, skeleton: str, holder: NameHolder) -> NameHolder | None:
        with self._lock:
            current = self._holders.get(skeleton)
            if current is not None and current.account_id != holder.account_id:
                return current
            self._holders[skeleton] = holder
            return None

    def release(self, skeleton: str, account_id: CommentKey | None) -> None:
        with self._lock:
            current = self._holders.get(skeleton)
            if current is not None and current.account_id == account_id:
                del self._holders[skeleton]
