"""The front of the response cache: anonymous reads answered before routing and the database.

A cached thread page (:mod:`parley.cache.http`) still cost about a millisecond per request: FastAPI's
routing and parameter validation, a read transaction for the site and the thread's version, the key.
Most of that answers the same question again and again — "is the entry I served for exactly this
request still the current one?" — so this module remembers the answer.

After a view served an anonymous read from (or into) the cache, it :meth:`FrontIndex.remember`\\ s
the request's identity (path, query string, the headers that choose the site) with the cache key it
used and the database's change stamp (:mod:`parley.db.changes`) read *before* the view touched the
database. :class:`parley.web.frontcache.FrontCacheMiddleware` answers the next identical anonymous
request directly when

- the stamp is unchanged (no write committed since, by any process sharing the stamp: the workers
  of this machine, or every instance through Redis),
- the remembered answer is younger than ``cache_recheck_seconds`` (a bound for anything the stamp
  cannot see, and the moment a thread's closing time passes is checked too), and
- the response cache still holds the entry.

Anything else — credentials, another method, a miss — goes down the normal path, which answers
and remembers again. The answer is built by :func:`parley.cache.http.plan`, as the views build
theirs, so the bytes and headers are the same either way (tested).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Scope

SCOPE_KEY = "parley.front"  # set on the scope of a request the front could answer next time

Identity = tuple[str, bytes, bytes, bytes]  # path, query string, Origin, X-Parley-Site


@dataclass(frozen=True, slots=True)
class FrontEntry:
    key: str  # the response cache's key
    view: str  # "thread", "replies", "comment" (the cache's hit/miss metric label)
    route: Any  # the matched route, so request metrics label the answer as the view would
    stamp: bytes
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

    def get(self, identity: Identity, stamp: bytes, now: float) -> FrontEntry | None:
        entry = self._entries.get(identity)
        if entry is None:
            return None
        if entry.stamp != stamp or now >= entry.expires:
            self._entries.pop(identity, None)
            return None
        return entry

    def remember(
        self,
        scope: Scope,
        key: str,
        view: str,
        now: datetime,
        *,
        until: datetime | None = None,
    ) -> None:
        """Called by a view that answered an anonymous read with the cache entry ``key``; ``until``:
        when the answer stops being true even without a write (a thread's closing time)."""
        mark = scope.get(SCOPE_KEY)
        if mark is None or not self.enabled:
            return
        identity, stamp = mark
        expires = now.timestamp() + self.recheck_seconds
        if until is not None:
            expires = min(expires, until.timestamp())
        entries = self._entries
        entries[identity] = FrontEntry(key, view, scope.get("route"), stamp, expires)
        entries.move_to_end(identity)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)
