"""The database's change stamp: values every committed write transaction replaces.

Readers that keep something derived from the database (the front of the response cache,
:mod:`parley.cache.front`) compare the values they saw when they read against the current ones:
equal means no write they depend on was committed since, by any process that shares the stamp. That
lets a cached public read be answered without a database round trip and still show a write on the
next read.

The stamp is :data:`SLOTS` + 1 values of 8 bytes. Slot 0 stands for the whole database; slots 1 to
:data:`SLOTS` for threads (:func:`thread_slot`, by thread id modulo :data:`SLOTS`). A write that
changed only the rows of some threads (:meth:`parley.db.database.Database.write` decides, see
``touch_threads`` there) replaces those threads' slots; any other write replaces slot 0. A reader of
one thread depends on slot 0 and that thread's slot, so a comment posted under one article leaves
the remembered answers of every other article standing (with one value for everything, any write
sent the next reader of every article back through the view and its read transaction).
Threads whose ids share a slot invalidate each other: harmless, and rare with 256 slots.

Where the stamp lives decides who shares it:

- :class:`FileStamp` — ``(SLOTS + 1) × 8`` bytes in a file, ``mmap``-ed by every process of the
  machine (next to the SQLite database, or in ``data_dir`` for PostgreSQL): ``parley serve --workers
  N``, ``parley worker`` and CLI commands on one machine see each other's writes. Reading it costs a
  memory read.
- :class:`RedisStamp` — a hash in Redis, for instances on several machines (PostgreSQL with
  ``redis_url``). One round trip per read; fails open to "unknown".
- :class:`LocalStamp` — in the process (an in-memory SQLite database).

A write stores fresh random values instead of increments: two processes that bump at once cannot
both write the same "old + 1" and leave a reader's value unchanged. A slot never written reads as
8 zero bytes.

A reader takes a :meth:`~ChangeStamp.snapshot` of every slot *before* it reads the database (it
does not know yet which thread it will read), and once it knows, keeps :func:`marks` of the slots it
depends on; a write commits before it bumps, so a reader whose marks are still current has seen it.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
SLOTS = 256  # thread slots; slot 0 is the whole database's
WHOLE = 0
_WIDTH = 8
_SIZE = (SLOTS + 1) * _WIDTH
_UNSET = bytes(_WIDTH)
_RETRY_AFTER = 5.0  # seconds a failing Redis is not asked again
_LOG_EVERY = 30.0

Slots = tuple[int, ...]  # slot numbers, :data:`WHOLE` first (it tells whether the stamp is known)


def thread_slot(thread_id: int) -> int:
    """The slot of a thread (1 to :data:`SLOTS`)."""
    return 1 + thread_id % SLOTS


def slots_of(thread_ids: Iterable[int]) -> Slots:
    """What a read of these threads depends on: the whole database's slot and theirs."""
    return (WHOLE, *sorted({thread_slot(t) for t in thread_ids}))


def marks(snapshot: bytes | bytearray, slots: Slots) -> bytes:
    """The values of ``slots`` in ``snapshot``, joined (what :meth:`ChangeStamp.current` returns)."""
    return b"".join(snapshot[i * _WIDTH : (i + 1) * _WIDTH] for i in slots)


class ChangeStamp(Protocol):
    def snapshot(self) -> bytes | None:
        """Every slot now (slot ``i`` at bytes ``8i`` to ``8i + 8``), or None when it cannot be
        known (then nothing may be trusted)."""
        ...

    def current(self, slots: Slots) -> bytes | None:
        """The values of ``slots`` now, joined, or None when they cannot be known."""
        ...

    def bump(self, slots: Iterable[int] = (WHOLE,)) -> None:
        """Replace the values of ``slots`` (after a commit)."""
        ...

    def close(self) -> None: ...


class LocalStamp:
    """A stamp only this process sees."""

    def __init__(self) -> None:
        self._values = bytearray(_SIZE)
        self.bump()

    def snapshot(self) -> bytes | None:
        return bytes(self._values)

    def current(self, slots: Slots) -> bytes | None:
        return marks(self._values, slots)

    def bump(self, slots: Iterable[int] = (WHOLE,)) -> None:
        for i in slots:
            self._values[i * _WIDTH : (i + 1) * _WIDTH] = os.urandom(_WIDTH)

    def close(self) -> None:
        return None


class FileStamp:
    """A stamp shared by every process on this machine that maps the same file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)  # a file of one value (an older Parley) keeps it as slot 0
            self._map: mmap.mmap | None = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file

    def snapshot(self) -> bytes | None:
        m = self._map
        return m[:] if m is not None else None

    def current(self, slots: Slots) -> bytes | None:
        m = self._map
        if m is None:
            return None
        if len(slots) == 2:  # one thread: the hottest read
            a, b = slots[0] * _WIDTH, slots[1] * _WIDTH
            return m[a : a + _WIDTH] + m[b : b + _WIDTH]
        return b"".join(m[i * _WIDTH : (i + 1) * _WIDTH] for i in slots)

    def bump(self, slots: Iterable[int] = (WHOLE,)) -> None:
        m = self._map
        if m is not None:
            for i in slots:
                # one aligned 8-byte store: readers never see half of it
                m[i * _WIDTH : (i + 1) * _WIDTH] = os.urandom(_WIDTH)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class RedisStamp:
    """A stamp shared by every instance that uses the same Redis and database: a hash of slot number
    to value."""

    def __init__(self, url: str, key: str, *, timeout: float = 0.5) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.key = key
        self._down_until = 0.0
        self._last_warning = 0.0

    def _failed(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + _RETRY_AFTER
        if now - self._last_warning > _LOG_EVERY:
            self._last_warning = now
            log.warning("change stamp: Redis %s failed (%s)", what, type(exc).__name__)

    def _paused(self) -> bool:
        return time.monotonic() < self._down_until

    def snapshot(self) -> bytes | None:
        if self._paused():
            return None
        try:
            found = self.client.hgetall(self.key)
        except self._errors as exc:
            self._failed("read", exc)
            return None
        if not found.get(b"0"):
            self.bump()  # first use (or Redis was emptied): start a stamp nobody has seen
            return None
        values = bytearray(_SIZE)
        for field, value in found.items():
            i = int(field)
            if 0 <= i <= SLOTS and len(value) == _WIDTH:
                values[i * _WIDTH : (i + 1) * _WIDTH] = value
        return bytes(values)

    def current(self, slots: Slots) -> bytes | None:
        if self._paused():
            return None
        try:
            values = self.client.hmget(self.key, [str(i) for i in slots])
        except self._errors as exc:
            self._failed("read", exc)
            return None
        if not values or not values[0]:
            self.bump()
            return None
        return b"".join(bytes(v) if v else _UNSET for v in values)

    def bump(self, slots: Iterable[int] = (WHOLE,)) -> None:
        # even while paused: a reader elsewhere must learn of this write if Redis answers at all
        try:
            self.client.hset(self.key, mapping={str(i): os.urandom(_WIDTH) for i in slots})
        except self._errors as exc:
            self._failed("write", exc)

    def close(self) -> None:
        self.client.close()


def stamp_for(
    database_url: str, *, sqlite_path: str | None, data_dir: Path, redis_url: str | None
) -> ChangeStamp:
    """The stamp the processes that share this database share.

    SQLite: a file beside the database (one machine by construction). PostgreSQL: Redis when
    configured (instances on several machines), else a file in ``data_dir`` named after the
    database, shared by the processes of this machine. An in-memory SQLite database: the process.
    """
    if sqlite_path is not None:
        if not sqlite_path or sqlite_path == ":memory:":
            return LocalStamp()
        return FileStamp(Path(f"{sqlite_path}.changes"))
    digest = hashlib.blake2b(database_url.encode(), digest_size=8).hexdigest()
    if redis_url:
        return RedisStamp(redis_url, f"parley:changes-by-slot:{digest}")  # a hash (was a string)
    return FileStamp(data_dir / f"db-changes-{digest}")
