"""The database's change stamp: a value every committed write transaction replaces.

Readers that keep something derived from the database (the front of the response cache,
:mod:`parley.cache.front`) compare the stamp they saw when they read against the current one: equal
means no write was committed since, by any process that shares the stamp. That lets a cached public
read be answered without a database round trip and still show a write on the next read.

Where the stamp lives decides who shares it:

- :class:`FileStamp` — 8 bytes in a file, ``mmap``-ed by every process of the machine (next to the
  SQLite database, or in ``data_dir`` for PostgreSQL): ``parley serve --workers N``, ``parley
  worker`` and CLI commands on one machine see each other's writes. Reading it costs a memory read.
- :class:`RedisStamp` — a key in Redis, for instances on several machines (PostgreSQL with
  ``redis_url``). One round trip per read; fails open to "unknown".
- :class:`LocalStamp` — in the process (an in-memory SQLite database).

A write stores a fresh random value instead of an increment: two processes that bump at once
cannot both write the same "old + 1" and leave a reader's stamp unchanged. The stamp says nothing
about *what* changed; a reader that sees it change rechecks everything it keeps. Writes are rare
next to reads on a comment section, so that costs one database read per kept item per write.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import time
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
_SIZE = 8
_RETRY_AFTER = 5.0  # seconds a failing Redis is not asked again
_LOG_EVERY = 30.0


class ChangeStamp(Protocol):
    def current(self) -> bytes | None:
        """The stamp now, or None when it cannot be known (then nothing may be trusted)."""
        ...

    def bump(self) -> None:
        """Replace the stamp (after a commit)."""
        ...

    def close(self) -> None: ...


class LocalStamp:
    """A stamp only this process sees."""

    def __init__(self) -> None:
        self._value = os.urandom(_SIZE)

    def current(self) -> bytes | None:
        return self._value

    def bump(self) -> None:
        self._value = os.urandom(_SIZE)

    def close(self) -> None:
        return None


class FileStamp:
    """A stamp shared by every process on this machine that maps the same file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)
            self._map: mmap.mmap | None = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file

    def current(self) -> bytes | None:
        m = self._map
        return m[:_SIZE] if m is not None else None

    def bump(self) -> None:
        m = self._map
        if m is not None:
            m[:_SIZE] = os.urandom(_SIZE)  # one aligned 8-byte store: readers never see half of it

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class RedisStamp:
    """A stamp shared by every instance that uses the same Redis and database."""

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

    def current(self) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = self.client.get(self.key)
        except self._errors as exc:
            self._failed("get", exc)
            return None
        if value is None:
            self.bump()  # first use (or Redis was emptied): start a stamp nobody has seen
            return None
        return bytes(value)

    def bump(self) -> None:
        # even while paused: a reader elsewhere must learn of this write if Redis answers at all
        try:
            self.client.set(self.key, os.urandom(_SIZE))
        except self._errors as exc:
            self._failed("set", exc)

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
        return RedisStamp(redis_url, f"parley:changes:{digest}")
    return FileStamp(data_dir / f"db-changes-{digest}")
