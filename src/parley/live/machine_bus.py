"""The event bus the processes of one machine share: ``parley serve --workers N`` without Redis.

Publishing (request threads, after commit) hands the event to the process's poller thread, which
appends what was published since its last look to the machine file's ``live_events`` table
(:class:`parley.db.machine.MachineFile`) in one transaction, then reads what every process appended
since its last look (every ``poll_seconds``, and at once after a publish of its own when the
process has readers) and hands it to its readers as :class:`LocalBus` does — so a reader hears
every worker's writes, in the order the file numbered them. A publish itself touches no file: an
``INSERT`` per event on the request's thread let the GIL go in the middle of a write request, and
under a flood of POSTs cost 7 % of them (docs/performance.md, "Writers on a pool of the turns'
threads"). An event reaches another process's readers within two polls (0.2 s by default); one
a process publishes shortly before a reader of its own subscribes may reach that reader too.

Event ids are ``<boot>-<row id>``: the same in every process, so a browser that reconnects to
another worker with ``Last-Event-ID`` is replayed what it missed from that worker's backlog. A
worker started after the reader's last event cannot know what came before it and says ``lost``
(the reader reloads), as :class:`LocalBus` does for ids older than its backlog. ``boot`` changes
when the file is started afresh.

Rows older than ``keep_seconds``, or beyond the newest ``keep_events``, are deleted now and then by
whichever process polls. When the file cannot be written, the event is dropped with a warning (at
most once a minute): a request never fails for a live update.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from parley.db.machine import MachineFile
from parley.live.bus import Delivery, ThreadEvent, decode_event, encode_event, log
from parley.live.memory import LocalBus, LocalSubscription
from parley.logs import Warner

BATCH = 1000  # rows read per poll; more are read at once after
_INSERT = "INSERT INTO live_events (site_id, thread_id, kind, data, at) VALUES (?, ?, ?, ?, ?)"
PRUNE_SECONDS = 10.0


class MachineBus(LocalBus):
    """:class:`parley.live.bus.EventBus` shared by the processes that open one machine file."""

    def __init__(
        self,
        file: MachineFile,
        *,
        poll_seconds: float = 0.1,
        keep_events: int = 10_000,
        keep_seconds: float = 3600.0,
        warn_every: float = 60.0,
        max_subscribers: int = 10_000,
        queue_size: int = 200,
    ) -> None:
        super().__init__(max_subscribers=max_subscribers, queue_size=queue_size)
        self._file = file  # publishing and pruning (request threads, the poller)
        # reading (the poller, and subscribe on the event loop) on a connection of its own: a read
        # never waits for a publisher that waits for another process's write
        self._reads = MachineFile(file.path, busy_ms=file.busy_ms)
        self._poll_seconds = poll_seconds
        self._keep_events = keep_events
        self._keep_seconds = keep_seconds
        self.warner = Warner(log, "live updates (machine file)", warn_every)
        self._start_lock = threading.Lock()
        self._polling = threading.Lock()  # one read-and-hand-on at a time (the poller, or a subscribe)
        self._pid = -1
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._poller: threading.Thread | None = None
        self._read_upto = -1  # the newest row this process has handed on (-1: not known yet)
        self._pending: list[tuple[int, int, str, str, float]] = []  # published, not stored yet
        self._pending_lock = threading.Lock()
        self.dropped = 0  # events not stored (the file failed, or too many waited for it)

    # --- lifecycle ------------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            if self._pid != -1:  # a forked child: the parent's readers are not this process's
                with self._lock:
                    self._subscribers.clear()
                    self._count = 0
                with self._pending_lock:  # nor its events: the parent stores them
                    self._pending = []
            try:
                self._begin_reading()
            except (sqlite3.Error, OSError) as exc:  # the poller tries again; requests go on meanwhile
                self.warner.warn("the file cannot be read yet, retrying", exc)
            self._stop = threading.Event()
            self._wake = threading.Event()
            self._poller = threading.Thread(target=self._poll_loop, name="parley-live-poll", daemon=True)
            self._poller.start()
            self._pid = os.getpid()

    def _begin_reading(self) -> None:
        with self._reads.connection() as conn:
            newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM live_events").fetchone()[0]
        self._restart(self._reads.boot, newest)

    def _restart(self, boot: str, newest: int) -> None:
        """Start counting at the file's newest row: what came before is not known here (a reader
        asking for it is told to reload)."""
        with self._lock:
            self.boot = boot
            self._seq = self._evicted_upto = self._read_upto = newest
            self._backlog.clear()
            subs = [s for group in self._subscribers.values() for s in group]
        for sub in subs:  # the file was started afresh under them, or could not be read before
            sub.deliver(Delivery(f"{boot}-{newest}", None, lost=True))

    def start(self) -> None:
        """Start polling now rather than on first use (the app does this at startup)."""
        self._ensure_started()

    def close(self) -> None:
        super().close()
        if self._pid == os.getpid():
            self._stop.set()
            self._wake.set()
            if self._poller is not None:
                self._poller.join(timeout=5)
            self._poller = None
            self._store_pending()  # what was published since the poller's last look
        self._file.close()
        self._reads.close()

    # --- publishing (request threads) -------------------------------------------------------------
    def publish(self, event: ThreadEvent) -> None:
        self._ensure_started()
        try:
            data = encode_event(event)
        except (TypeError, ValueError) as exc:  # data that is not JSON: a bug, but not the reader's
            self.warner.warn("unencodable event dropped", exc)
            return
        row = (event.site_id, event.thread_id, event.kind, data, time.time())
        with self._pending_lock:
            self._pending.append(row)
            over = len(self._pending) - self._keep_events  # the file has not taken any for long
            if over > 0:
                del self._pending[:over]  # no reader could be replayed them anyway
        if over > 0:
            self.dropped += over
            self.warner.warn("events waited too long for the file, dropped")
        if self.subscriber_count:  # this process's readers need not wait for the next poll
            self._wake.set()  # (with none, nobody waits: a reader who comes reads the file first)

    def _store_pending(self) -> None:
        """Append what was published in this process since the last call, in one transaction; if
        the file cannot take it, it is dropped with a warning (a request never fails for it)."""
        with self._pending_lock:
            rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            with self._file.transaction() as conn:
                conn.executemany(_INSERT, rows)
        except (sqlite3.Error, OSError) as exc:
            self.dropped += len(rows)
            self.warner.warn("event not stored, dropped", exc)

    def subscribe(self, site_id: int, thread_id: int, last_event_id: str | None = None) -> LocalSubscription:
        """As :meth:`LocalBus.subscribe`, after reading what the file holds already (one indexed read
        on the event loop, never waiting for a writer in WAL mode): the new reader hears what follows
        its subscription, and a replay holds everything up to it."""
        self._ensure_started()
        with self._polling:
            try:
                self._poll_once()
            except (sqlite3.Error, OSError) as exc:  # the poller will catch up; replay says lost if so
                self.warner.warn("reading events failed, retrying", exc)
            return super().subscribe(site_id, thread_id, last_event_id)

    # --- the poller thread ------------------------------------------------------------------------
    def _poll_loop(self) -> None:
        stop, wake = self._stop, self._wake
        next_prune = time.monotonic() + PRUNE_SECONDS
        while not stop.is_set():
            wake.wait(self._poll_seconds)
            wake.clear()
            try:
                self._store_pending()
                while not stop.is_set():
                    with self._polling:
                        if self._poll_once() < BATCH:
                            break
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_SECONDS
                    self._prune()
            except (sqlite3.Error, OSError) as exc:  # locked for longer than the busy timeout, disk trouble …
                self.warner.warn("reading events failed, retrying", exc)
                stop.wait(1.0)
            except Exception as exc:  # never end the poller: readers would hang silently
                self.warner.warn("poller error, retrying", exc)
                stop.wait(1.0)

    def _poll_once(self) -> int:
        if self._read_upto < 0:
            self._begin_reading()  # could not at start: from now on, then
            return 0
        with self._reads.connection() as conn:
            rows = conn.execute(
                "SELECT id, data FROM live_events WHERE id > ? ORDER BY id LIMIT ?", (self._read_upto, BATCH)
            ).fetchall()
        for row_id, data in rows:
            self._read_upto = row_id
            try:
                event = decode_event(data)
            except (ValueError, KeyError, TypeError):
                self.warner.warn("unreadable event skipped")
                continue
            self._fan_out(row_id, event)
        return len(rows)

    def _prune(self) -> None:
        """Delete what no reader may still ask for, and notice a file started afresh."""
        with self._file.connection() as conn:
            conn.execute(
                "DELETE FROM live_events WHERE at < ? OR id <= (SELECT MAX(id) FROM live_events) - ?",
                (time.time() - self._keep_seconds, self._keep_events),
            )
            row = conn.execute("SELECT value FROM meta WHERE name = 'boot'").fetchone()
            boot = row[0] if row else ""
            if boot != self.boot:
                newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM live_events").fetchone()[0]
        if boot != self.boot:
            with self._polling:
                self._restart(boot, newest)
