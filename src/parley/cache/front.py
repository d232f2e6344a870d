"""The front of the response cache: anonymous reads answered before routing and the database.

A cached thread page (:mod:`parley.cache.http`) still cost about a millisecond per request: FastAPI's
routing and parameter validation, a read transaction for the site and the thread's version, the key.
Most of that answers the same question again and again — "is the entry I served for exactly this
request still the current one?" — so this module remembers the answer.

After a view served an anonymous read from (or into) the cache, it :meth:`FrontIndex.remember`\\ s
the request's identity (path, query string, the headers that choose the site) with the cache key it
used, the threads the answer shows and the marks of the database's change stamp
(:mod:`parley.db.changes`) for them — the whole database's slot and each thread's — as they were
*before* the view touched the database. :class:`parley.web.frontcache.FrontCacheMiddleware` answers
the next identical anonymous request directly when

- those marks are unchanged (no write to these threads, and none to anything every thread shows,
  committed since by any process sharing the stamp: the workers of this machine, or every
  instance through Redis; a comment under another article does not count),
- the remembered answer is younger than ``cache_recheck_seconds`` (a bound for anything the stamp
  cannot see, and the moment a thread's closing time passes is checked too), and
- the response cache still holds the entry.

Anything else — credentials, another method, a miss — goes down the normal path, which answers
and remembers again. The answer is built by :func:`parley.cache.http.plan`, as the views build
theirs, so the bytes and headers are the same either way (tested).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Scope

from parley.db.changes import Slots, marks, slots_of

SCOPE_KEY = "parley.front"  # set on the scope of a request the front could answer next time

Identity = tuple[str, bytes, bytes, bytes]  # path, query string, Origin, X-Parley-Site


@dataclass(frozen=True, slots=True)
class FrontEntry:
    key: str  # the response cache's key
    view: str  # "thread", "replies", "comment" (the cache's hit/miss metric label)
    route: Any  # the matched route, so request metrics label the answer as the view would
    slots: Slots  # the change stamp's slots the answer depends on
    marks: bytes  # their values before the view read the database
    expires: float  # clock seconds


class FrontIndex:
    """Per process: request identity → the cache entry that answered it. Bounded (LRU)."""

    def __init__(self, *, recheck_seconds: float, max_entries: int = 20_000) -> None:
        self.recheck_seconds = recheck_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Identity, FrontEntry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.recheck_seconds > 0

    def get(self, identity: Identity, now: float) -> FrontEntry | None:
        """The entry remembered for ``identity`` while it is young enough; the caller compares its
        marks with the stamp's current values (:meth:`forget` when they differ)."""
        entry = self._entries.get(identity)
        if entry is None:
            return None
        if now >= entry.expires:
            self._entries.pop(identity, None)
            return None
        return entry

    def forget(self, identity: Identity) -> None:
        self._entries.pop(identity, None)

    def remember(
        self,
        scope: Scope,
        key: str,
        view: str,
        now: datetime,
        *,
        until: datetime | None = None,
        threads: Iterable[int] = (),
    ) -> None:
        """Called by a view that answered an anonymous read with the cache entry ``key``; ``until``:
        when the answer stops being true even without a write (a thread's closing time);
        ``threads``: the ids of the threads whose rows the answer shows (none: it depends on the
        whole database's slot only, as the answer for a thread that does not exist yet)."""
        mark = scope.get(SCOPE_KEY)
        if mark is None or not self.enabled:
            return
        identity, snapshot = mark
        expires = now.timestamp() + self.recheck_seconds
        if until is not None:
            expires = min(expires, until.timestamp())
        slots = slots_of(threads)
        entries = self._entries
        entries[identity] = FrontEntry(key, view, scope.get("route"), slots, marks(snapshot, slots), expires)
        entries.move_to_end(identity)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)
