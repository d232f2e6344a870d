"""The Redis event bus: live events fanned out to the SSE readers of every instance.

Publishing (request threads, after commit) only puts the event on a bounded in-process queue; one
publisher thread per process sends it to Redis with a Lua script that, atomically,

- appends it to the thread's stream ``parley:live:<site>:<thread>`` (``XADD``, trimmed to about
  ``backlog`` entries, expiring ``backlog_seconds`` after the last event): the replay log, and
- ``PUBLISH``-es ``<stream id>\\n<event>`` on one channel that every instance listens to.

One listener thread per process holds the ``SUBSCRIBE`` connection and hands each event to the
readers of that thread on their event loop (``call_soon_threadsafe``, as :class:`LocalBus` does),
so a request never waits for Redis and a reader never waits for another.

Event ids are Redis stream ids (``<ms>-<seq>``), the same on every instance, so a browser that
reconnects to another instance with ``Last-Event-ID`` gets what it missed from the stream. What
cannot be replayed is announced as ``lost`` (the reader reloads): an id older than what the stream
still holds (trimmed, or expired in between), an unknown id, and every
reader of an instance whose listener lost its Redis connection. When Redis is down, publishing
drops events (with a warning at most once a minute) and never blocks or fails the request.

Threads and connections start on first use and again in a forked child, so ``parley serve
--workers N`` gives every worker its own.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections import deque
from contextlib import suppress

import redis

from parley.live.bus import Delivery, ThreadEvent, TooManySubscribers, decode_event, encode_event, log
from parley.logs import Warner

PREFIX = "parley:live:"

# KEYS[1] the thread's stream; ARGV backlog, ttl seconds, channel, event JSON
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], id .. '\\n' .. ARGV[4])
return id
"""

ThreadKey = tuple[int, int]
StreamId = tuple[int, int]


def parse_id(value: str | bytes) -> StreamId | None:
    """``"1700000000000-3"`` → ``(1700000000000, 3)``; None for anything else."""
    text = value.decode() if isinstance(value, bytes) else value
    ms, sep, seq = text.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit() or len(ms) > 20 or len(seq) > 20:
        return None
    return int(ms), int(seq)


def _now_id() -> str:
    """An id for a ``lost`` marker when Redis cannot be asked: this host's time (``<ms>-0``)."""
    return f"{int(time.time() * 1000)}-0"


class RedisSubscription:
    """One reader's queue. Replays from the stream on the first :meth:`next`, then serves what the
    listener delivers, skipping what the replay already gave."""

    def __init__(
        self,
        bus: RedisBus,
        key: ThreadKey,
        loop: asyncio.AbstractEventLoop,
        size: int,
        last_event_id: str | None,
    ) -> None:
        self._bus = bus
        self.key = key
        self._loop = loop
        self._size = size
        self._queue: deque[Delivery] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._last_event_id = last_event_id
        self._started = False
        self._seen: StreamId = (0, 0)  # the newest id handed out: later copies are skipped

    # --- called on the listener thread ---------------------------------------------------------
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
            self._queue.clear()  # too far behind: tell the reader to reload instead
            item = Delivery(item.event_id, None, lost=True)
        self._queue.append(item)
        self._wakeup.set()

    async def _start(self) -> None:
        """Wait (briefly) until the listener holds its subscription, then replay: what the replay
        does not contain arrives live, so nothing falls in between."""
        self._started = True
        for _ in range(200):
            if self._bus.listening.is_set():
                break
            await asyncio.sleep(0.01)
        if self._last_event_id is None:
            return
        try:
            replay = await asyncio.to_thread(self._bus.replay, self.key, self._last_event_id)
        except (redis.RedisError, OSError) as exc:
            self._bus.warner.warn("replay failed", exc)
            replay = [Delivery(_now_id(), None, lost=True)]
        # live events that came in while the replay ran follow it; next() skips those it repeats
        self._queue.extendleft(reversed(replay))
        self._seen = parse_id(self._last_event_id) or (0, 0)

    async def next(self, timeout: float) -> Delivery | None:
        if not self._started:
            await self._start()
        while True:
            if not self._queue:
                self._wakeup.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
                if not self._queue:
                    return None
            item = self._queue.popleft()
            if item.lost:
                return item
            sid = parse_id(item.event_id)
            if sid is not None and sid <= self._seen:
                continue  # already replayed
            if sid is not None:
                self._seen = sid
            return item

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._bus._remove(self)


class RedisBus:
    """:class:`parley.live.bus.EventBus` shared by every instance connected to one Redis."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = PREFIX,
        backlog: int = 100,
        backlog_seconds: int = 3600,
        max_subscribers: int = 10_000,
        queue_size: int = 200,
        outbox_size: int = 10_000,
        warn_every: float = 60.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.channel = f"{prefix}events"
        self._backlog = backlog
        self._backlog_seconds = backlog_seconds
        self._max_subscribers = max_subscribers
        self._queue_size = queue_size
        self._outbox_size = outbox_size
        self.warner = Warner(log, "live updates (Redis)", warn_every)
        self._lock = threading.Lock()
        self._subscribers: dict[ThreadKey, set[RedisSubscription]] = {}
        self._count = 0
        self._pid = -1
        self._stop = threading.Event()
        self._client: redis.Redis[bytes] | None = None
        self._outbox: queue.Queue[tuple[str, str]] = queue.Queue(outbox_size)  # (stream key, JSON)
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()  # set while the listener holds its subscription
        self.dropped = 0  # events not sent (outbox full or Redis down)

    # --- lifecycle ------------------------------------------------------------------------------
    def _ensure_started(self) -> redis.Redis[bytes]:
        """Connections and threads of this process (created again after a fork)."""
        if self._pid == os.getpid() and self._client is not None:
            return self._client
        with self._lock:
            if self._pid != os.getpid() or self._client is None:
                self._pid = os.getpid()
                self._stop = threading.Event()
                self.listening.clear()
                self._outbox = queue.Queue(self._outbox_size)
                self._client = redis.Redis.from_url(self.url, socket_timeout=2.0, socket_connect_timeout=2.0)
                self._script = self._client.register_script(_PUBLISH)
                self._threads = [
                    threading.Thread(target=self._publish_loop, name="parley-live-publish", daemon=True),
                    threading.Thread(target=self._listen_loop, name="parley-live-listen", daemon=True),
                ]
                for t in self._threads:
                    t.start()
            return self._client

    def start(self) -> None:
        """Connect and subscribe now rather than on first use (the app does this at startup, so the
        first reader of a process does not miss what is published while the listener subscribes)."""
        self._ensure_started()

    def close(self) -> None:
        with self._lock:
            subs = [s for group in self._subscribers.values() for s in group]
        for s in subs:
            s.close()
        if self._pid != os.getpid():
            return  # nothing of ours runs in this process
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def subscriber_count(self) -> int:
        return self._count

    # --- publishing (request threads) -------------------------------------------------------------
    def publish(self, event: ThreadEvent) -> None:
        self._ensure_started()
        try:
            item = (f"{self.prefix}{event.site_id}:{event.thread_id}", encode_event(event))
        except (TypeError, ValueError) as exc:  # data that is not JSON: a bug, but not the reader's
            self.warner.warn("unencodable event dropped", exc)
            return
        try:
            self._outbox.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            self.warner.warn("outbox full, events dropped")

    def _publish_loop(self) -> None:
        stop, outbox = self._stop, self._outbox
        while not stop.is_set() or not outbox.empty():
            try:
                key, payload = outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._script(keys=[key], args=[self._backlog, self._backlog_seconds, self.channel, payload])
            except (redis.RedisError, OSError) as exc:
                self.dropped += 1
                self.warner.warn("publishing failed, events dropped", exc)
                if stop.is_set():
                    return

    # --- subscribing (event loop) -----------------------------------------------------------------
    def subscribe(self, site_id: int, thread_id: int, last_event_id: str | None = None) -> RedisSubscription:
        self._ensure_started()
        key = (site_id, thread_id)
        sub = RedisSubscription(self, key, asyncio.get_running_loop(), self._queue_size, last_event_id)
        with self._lock:
            if self._count >= self._max_subscribers:
                raise TooManySubscribers()
            self._subscribers.setdefault(key, set()).add(sub)
            self._count += 1
        return sub

    def _remove(self, sub: RedisSubscription) -> None:
        with self._lock:
            subs = self._subscribers.get(sub.key)
            if subs is not None and sub in subs:
                subs.discard(sub)
                self._count -= 1
                if not subs:
                    del self._subscribers[sub.key]

    def replay(self, key: ThreadKey, last_event_id: str) -> list[Delivery]:
        """What followed ``last_event_id`` in the thread's stream, or one ``lost`` marker.

        Runs in a worker thread (blocking Redis calls). ``TIME``, ``XINFO`` and ``XRANGE`` run in
        one ``MULTI``, so a trim between them cannot hide a gap. A ``lost`` marker carries the
        newest id of the stream, or the time (``<ms>-0``), so that the reader's next reconnect
        replays from there instead of being told "lost" again.
        """
        client = self._ensure_started()
        after = parse_id(last_event_id)
        stream = f"{self.prefix}{key[0]}:{key[1]}"
        pipe = client.pipeline(transaction=True)
        pipe.time()
        pipe.xinfo_stream(stream)
        pipe.xrange(stream, min=f"({after[0]}-{after[1]}" if after else "-", max="+")
        (secs, micros), info, entries = pipe.execute(raise_on_error=False)
        now_ms = secs * 1000 + micros // 1000
        if after is None:
            return [Delivery(f"{now_ms}-0", None, lost=True)]
        if isinstance(info, Exception):
            # no stream: it expired ``backlog_seconds`` after its last event. An id younger than
            # that has seen every event there was; an older one may have missed some.
            if after[0] >= now_ms - self._backlog_seconds * 1000:
                return []
            return [Delivery(f"{now_ms}-0", None, lost=True)]
        if isinstance(entries, Exception):
            raise entries
        first = parse_id(info.get("recorded-first-entry-id", b"0-0")) or (0, 0)
        trimmed = int(info.get("entries-added", 0)) > int(info.get("length", 0))
        # before the oldest entry: lost if entries were trimmed away, or if the gap is long enough
        # for an earlier stream to have expired in between
        if after < first and (trimmed or after[0] < first[0] - self._backlog_seconds * 1000):
            newest = info.get("last-generated-id", b"0-0")
            return [Delivery(newest.decode() if isinstance(newest, bytes) else str(newest), None, lost=True)]
        return [Delivery(sid.decode(), decode_event(fields[b"e"])) for sid, fields in entries]

    # --- the listener thread ----------------------------------------------------------------------
    def _listen_loop(self) -> None:
        stop = self._stop
        listener: redis.Redis[bytes] = redis.Redis.from_url(
            self.url, socket_timeout=5.0, socket_connect_timeout=2.0, health_check_interval=10
        )
        delay = 0.1
        try:
            while not stop.is_set():
                pubsub = listener.pubsub(ignore_subscribe_messages=True)
                try:
                    pubsub.subscribe(self.channel)
                    self.listening.set()
                    delay = 0.1
                    while not stop.is_set():
                        message = pubsub.get_message(timeout=0.5)
                        if message is not None and message.get("type") == "message":
                            self._dispatch(message["data"])
                except Exception as exc:  # Redis gone, or anything else: never end the listener
                    if self.listening.is_set():
                        self.listening.clear()
                        self.warner.warn("listener lost its connection, readers told to reload", exc)
                        self._all_lost()
                    stop.wait(delay)
                    delay = min(delay * 2, 5.0)
                finally:
                    with suppress(Exception):
                        pubsub.close()
        finally:
            self.listening.clear()
            listener.close()

    def _dispatch(self, data: bytes) -> None:
        sid, _, raw = data.partition(b"\n")
        try:
            event = decode_event(raw)
        except (ValueError, KeyError, TypeError):
            self.warner.warn("unreadable event skipped")
            return
        with self._lock:
            targets = list(self._subscribers.get((event.site_id, event.thread_id), ()))
        if targets:
            item = Delivery(sid.decode(), event)
            for sub in targets:
                sub.deliver(item)

    def _all_lost(self) -> None:
        """The listener missed events for an unknown time: every reader of this process reloads."""
        item = Delivery(_now_id(), None, lost=True)
        with self._lock:
            subs = [s for group in self._subscribers.values() for s in group]
        for sub in subs:
            sub.deliver(item)
