"""The in-process event bus: one instance, any number of SSE readers on its event loop(s).

``publish`` runs on request worker threads. It takes a lock only to number the event, append it to
the thread's short backlog and copy the subscriber list; it hands each subscriber the event with
``loop.call_soon_threadsafe`` and never waits for a reader. A reader that falls further behind than
its queue holds loses what was queued and is told so (``Delivery.lost``), so it reloads instead of
showing a wrong picture.

Event ids are ``<boot>-<seq>``: ``seq`` counts up in this process and ``boot`` changes on restart,
so a ``Last-Event-ID`` from before a restart (or older than the backlog) is recognised as
unreplayable rather than silently skipping events.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import OrderedDict, deque
from contextlib import suppress

from parley.live.bus import Delivery, ThreadEvent, TooManySubscribers

ThreadKey = tuple[int, int]


class _Log:
    """The recent events of one thread, and the newest one it had to drop."""

    __slots__ = ("dropped_upto", "items")

    def __init__(self, size: int) -> None:
        self.items: deque[tuple[int, ThreadEvent]] = deque(maxlen=size)
        self.dropped_upto = 0

    @property
    def last_seq(self) -> int:
        return self.items[-1][0] if self.items else self.dropped_upto

    def append(self, seq: int, event: ThreadEvent) -> None:
        if self.items.maxlen is not None and len(self.items) == self.items.maxlen:
            self.dropped_upto = self.items[0][0]
        self.items.append((seq, event))


class LocalSubscription:
    def __init__(self, bus: LocalBus, key: ThreadKey, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self._bus = bus
        self.key = key
        self._loop = loop
        self._queue: deque[Delivery] = deque()
        self._size = size
        self._wakeup = asyncio.Event()
        self._closed = False

    # --- called on any thread ------------------------------------------------------------------
    def deliver(self, item: Delivery) -> None:
        if self._closed:
            return
        try:
            self._loop.call_soon_threadsafe(self._push, item)
        except RuntimeError:  # the loop is closed: the reader is gone
            self.close()

    # --- called on the subscriber's loop -------------------------------------------------------
    def _push(self, item: Delivery) -> None:
        if len(self._queue) >= self._size:
            # too far behind: drop what is queued and tell the reader to reload instead
            self._queue.clear()
            item = Delivery(item.event_id, None, lost=True)
        self._queue.append(item)
        self._wakeup.set()

    async def next(self, timeout: float) -> Delivery | None:
        if not self._queue:
            self._wakeup.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
        return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._bus._remove(self)


class LocalBus:
    """Single-process implementation of :class:`parley.live.bus.EventBus`."""

    def __init__(
        self,
        *,
        backlog: int = 100,
        backlog_threads: int = 1000,
        max_subscribers: int = 10_000,
        queue_size: int = 200,
    ) -> None:
        self.boot = secrets.token_hex(4)
        self._backlog_size = backlog
        self._backlog_threads = backlog_threads
        self._max_subscribers = max_subscribers
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._seq = 0
        self._subscribers: dict[ThreadKey, set[LocalSubscription]] = {}
        self._count = 0
        self._backlog: OrderedDict[ThreadKey, _Log] = OrderedDict()
        self._evicted_upto = 0  # newest event of any thread whose backlog was dropped whole

    @property
    def subscriber_count(self) -> int:
        return self._count

    def publish(self, event: ThreadEvent) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
            targets = self._log(seq, event)
        self._deliver(seq, event, targets)

    def _fan_out(self, seq: int, event: ThreadEvent) -> None:
        """Hand on event number ``seq``, numbered elsewhere (:class:`parley.live.machine_bus.MachineBus`
        gives the shared file's row ids, in order)."""
        with self._lock:
            self._seq = max(self._seq, seq)
            targets = self._log(seq, event)
        self._deliver(seq, event, targets)

    def _log(self, seq: int, event: ThreadEvent) -> list[LocalSubscription]:
        """Under the lock: keep the event in its thread's backlog; the thread's readers now."""
        key = (event.site_id, event.thread_id)
        log = self._backlog.get(key)
        if log is None:
            log = self._backlog[key] = _Log(self._backlog_size)
            if len(self._backlog) > self._backlog_threads:
                _, evicted = self._backlog.popitem(last=False)
                self._evicted_upto = max(self._evicted_upto, evicted.last_seq)
        else:
            self._backlog.move_to_end(key)
        log.append(seq, event)
        return list(self._subscribers.get(key, ()))

    def _deliver(self, seq: int, event: ThreadEvent, targets: list[LocalSubscription]) -> None:
        item = Delivery(f"{self.boot}-{seq}", event)
        for sub in targets:
            sub.deliver(item)

    def subscribe(self, site_id: int, thread_id: int, last_event_id: str | None = None) -> LocalSubscription:
        key = (site_id, thread_id)
        sub = LocalSubscription(self, key, asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            if self._count >= self._max_subscribers:
                raise TooManySubscribers()
            self._subscribers.setdefault(key, set()).add(sub)
            self._count += 1
            replay = self._replay(key, last_event_id) if last_event_id else []
        for item in replay:
            sub._push(item)
        return sub

    def _replay(self, key: ThreadKey, last_event_id: str) -> list[Delivery]:
        """What followed ``last_event_id`` in this thread, or one ``lost`` marker if we cannot tell."""
        after = self._parse_id(last_event_id)
        log = self._backlog.get(key)
        dropped = log.dropped_upto if log is not None else self._evicted_upto
        if after is None or after > self._seq or after < dropped:
            return [Delivery(f"{self.boot}-{self._seq}", None, lost=True)]
        if log is None:
            return []
        return [Delivery(f"{self.boot}-{s}", e) for s, e in log.items if s > after]

    def _parse_id(self, value: str) -> int | None:
        boot, _, seq = value.partition("-")
        if boot != self.boot or not seq.isdigit() or len(seq) > 18:
            return None
        return int(seq)

    def _remove(self, sub: LocalSubscription) -> None:
        with self._lock:
            subs = self._subscribers.get(sub.key)
            if subs is not None and sub in subs:
                subs.discard(sub)
                self._count -= 1
                if not subs:
                    del self._subscribers[sub.key]

    def close(self) -> None:
        with self._lock:
            subs = [s for group in self._subscribers.values() for s in group]
        for s in subs:
            s.close()
