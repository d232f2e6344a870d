"""Write turns: how many of the readers' write requests a worker process handles at once.

A worker is one Python process: one thread runs Python at a time (the GIL). A write request that
is let in takes a thread of the pool and holds it while it waits on the database. With every
request let in, a stream of POSTs on PostgreSQL — where write units run side by side — put dozens
of threads of a worker in turn on the GIL and the connection pool, and each POST cost more CPU the
more were in flight (docs/performance.md, "Write turns"). Past the limit a request waits on the
event loop, holding no thread, in arrival order, and is let in as soon as one ends; a request
that waits is not refused and nothing it sent is dropped.

The limit is per worker (``settings.write_turns``) and off by default. On PostgreSQL, 2 raised a
stream of POSTs by half; but with the reads of a comment section beside them (95 reads to 5 POSTs)
the POSTs' p99 tripled: a turn is handed on by the event loop, which also builds the pages the
POSTs make stale, so each turn was held for that long too. On SQLite it changed nothing measurable:
write units queue for the writers' lock anyway, and that queue is what lets them share a commit.
Without a limit the routes do not take turns at all (FastAPI's handling of the dependency costs
65-100 µs a request), so the running and waiting counts stay 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from parley.config import Settings


class WriteTurns:
    """At most ``limit`` holders at once per event loop (0: no limit). One per process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0  # holders now (all loops; read by /metrics)
        self.waiting = 0
        # one semaphore per event loop: an asyncio primitive belongs to the loop it first waited
        # on, and a process may run several loops one after another (tests, the CLI)
        self._by_loop: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings: Settings) -> WriteTurns:
        return cls(settings.write_turns)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn (on the event loop), hold it for the block."""
        semaphore = self._semaphore() if self.limit else None
        if semaphore is not None:
            self.waiting += 1
            try:
                await semaphore.acquire()
            finally:
                self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            if semaphore is not None:
                semaphore.release()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.limit)
        return semaphore
