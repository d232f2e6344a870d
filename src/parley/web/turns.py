"""Write turns: how many of the readers' write requests a worker process handles at once.

A worker is one Python process: one thread runs Python at a time (the GIL). FastAPI runs every
plain view on a thread of anyio's pool (40 threads). On PostgreSQL, where write units run side by
side, a stream of POSTs put dozens of threads of a worker in turn on the GIL and the connection
pool, each making round trips that hand the GIL on; each POST cost more CPU the more were in flight
(docs/performance.md, "Write turns"). With a limit, at most that many write views of a worker run
at once; a request that waits is not refused and nothing it sent is dropped.

With a limit, the write views run on a pool of exactly ``limit`` threads per worker
(:meth:`WriteTurns.pool`), which take the waiting writes from the pool's queue in order and run
them back to back: a thread that ends one write goes on with the next without sleeping, and
nothing of the hand-over needs the event loop, which only queues a write and is handed its answer.
Two earlier versions: the requests waited on the loop, holding no thread — turns were then handed
on by the loop, which also builds the first pages that every POST makes stale, so beside a comment
section's reads each turn was held that much longer (the POSTs' p99 tripled; measured again with
the loop's limiter at the turns: the 95/5 mix's p99 1.2–3.6 s against 0.25–0.4 s); and each
request waited on a thread of its own, blocked on a semaphore until a turn was free — a sleep and
a wake-up in the kernel for every write, with the woken thread then waiting for the GIL the
releasing one held: under a flood of POSTs on PostgreSQL 9–14 % fewer POSTs per second than the
pool (docs/performance.md, "Writers on a pool of the turns' threads"). :meth:`WriteTurns.turn`
still admits at most ``limit`` holders, whoever calls it.

The limit is per worker: ``settings.write_turns``, by default 2 on PostgreSQL and none on SQLite,
whose write units queue for the writers' lock anyway (that queue is what lets them share a commit:
a limit would only shrink those batches). See decision 0009. Without a limit, the write views run
on threads of their own (:data:`WRITER_THREADS` per worker, anyio's limiter: past them, writers wait
on the event loop for a thread); on SQLite a POST's view then gives its write unit to the database's
writer thread and waits there for the commit (``Database.run_write``, decision 0008).

Either way the writers do not use anyio's default pool that every other plain view shares: in it, a
flood of POSTs (more than 40 in a worker) held every thread, and ``/healthz``, ``/readyz``,
``/metrics``, logins and the moderation workspace queued behind the POSTs (``/healthz`` answered in
0.4–0.8 s under 256 connections of POSTs on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from parley.config import Settings

if TYPE_CHECKING:
    from parley.web.context import RequestContext

V = TypeVar("V", bound=Callable[..., Any])

DEFAULT_POSTGRESQL = 2
"""Turns per worker on PostgreSQL unless set: 1 and 2 measured alike, 4 lower (docs/performance.md)."""

WRITER_THREADS = 40
"""Threads per worker for the write views without a limit, apart from anyio's default pool (also
40 threads)."""

_WRITER_THREADS: RunVar[anyio.CapacityLimiter] = RunVar("parley_writer_threads")


class WriteTurns:
    """At most ``limit`` holders at once in this process (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0  # holders now (read by /metrics)
        self.waiting = 0
        self._counts = threading.Lock()  # the counters change on the requests' threads
        self._turns = threading.Semaphore(limit) if limit else None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_guard = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> WriteTurns:
        if settings.write_turns is not None:
            return cls(settings.write_turns)
        return cls(0 if settings.is_sqlite else DEFAULT_POSTGRESQL)

    def pool(self) -> ThreadPoolExecutor:
        """The ``limit`` threads the write views run on (made on first use; only with a limit)."""
        if self._pool is None:
            with self._pool_guard:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.limit, thread_name_prefix="parley-writer")
        return self._pool

    def close(self) -> None:
        """Let the writes in the pool end (none is dropped) and stop its threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def queue(self) -> None:
        """Count a request as waiting before it has a thread to wait for its turn on (the writers'
        threads are all taken); its :meth:`turn` with ``queued=True``, or :meth:`leave_queue` if it
        never gets that far, ends the count."""
        with self._counts:
            self.waiting += 1

    def leave_queue(self) -> None:
        with self._counts:
            self.waiting -= 1

    @contextmanager
    def turn(self, *, queued: bool = False) -> Iterator[None]:
        """Wait for a turn on this thread (blocking), hold it for the block. ``queued``: the request
        is counted as waiting already (:meth:`queue`) and stays so until its turn begins."""
        turns = self._turns
        counted = queued
        if turns is not None and not queued:
            with self._counts:
                self.waiting += 1
            counted = True
        try:
            if turns is not None:
                turns.acquire()
        finally:
            if counted:
                with self._counts:
                    self.waiting -= 1
        with self._counts:
            self.running += 1
        try:
            yield
        finally:
            with self._counts:
                self.running -= 1
            if turns is not None:
                turns.release()


def writer_threads() -> anyio.CapacityLimiter:
    """The write views' threads: one limiter per event loop, as anyio keeps its default one."""
    try:
        return _WRITER_THREADS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(WRITER_THREADS)
        _WRITER_THREADS.set(limiter)
        return limiter


def in_write_turn(view: V) -> V:
    """Run a plain view inside a write turn of its worker: with a limit on its pool
    (:meth:`WriteTurns.pool`), else on the writers' threads (:func:`writer_threads`). The view
    takes the request context as the keyword argument ``ctx``, as FastAPI passes it; the signature
    FastAPI reads is the view's own (``functools.wraps``). The wrapper is a coroutine function:
    FastAPI awaits it on the event loop, and it hands the view to a thread as FastAPI would (the
    request's context variables go along); once started, the view runs to its end even if the
    client goes away, and the wrapper waits for it."""

    @functools.wraps(view)
    async def in_turn(*args: Any, **kwargs: Any) -> Any:
        ctx: RequestContext = kwargs["ctx"]
        turns = ctx.registry.write_turns
        started = False

        def run() -> Any:
            nonlocal started
            started = True
            with turns.turn(queued=True):
                return view(*args, **kwargs)

        turns.queue()  # waiting from now: for its turn (with a limit) or for one of the threads
        if turns.limit:
            return await _on_pool(turns, run)
        try:
            return await anyio.to_thread.run_sync(run, limiter=writer_threads())
        finally:
            if not started:  # cancelled while waiting for a thread
                turns.leave_queue()

    in_turn.takes_write_turn = True  # type: ignore[attr-defined]  # for tests and tooling
    return in_turn  # type: ignore[return-value]


async def _on_pool(turns: WriteTurns, run: Callable[[], Any]) -> Any:
    """``run`` on the turns' pool, in the request's context. Cancelled before it starts, it never
    runs (and leaves the queue); once started, it is waited for to its end (as anyio's shielded
    call to a thread does), then the cancellation goes on."""
    job = turns.pool().submit(contextvars.copy_context().run, run)
    try:
        return await asyncio.wrap_future(job)
    except asyncio.CancelledError:
        if job.cancel() or job.cancelled():  # still queued: nothing of it ran
            turns.leave_queue()
            raise
        while not job.done():
            try:
                await asyncio.shield(asyncio.wrap_future(job))
            except asyncio.CancelledError:
                continue
            except BaseException:
                break
        raise
