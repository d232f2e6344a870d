"""State the processes of one machine share when there is no Redis: a small SQLite file.

``parley serve --workers N`` runs N processes. Without ``redis_url`` each would keep its own live
events, request rate limits and moderation flood counts: a reader would hear only the writes of the
worker serving its stream, and a client would get N times its limit. :class:`MachineFile` is where
those three keep what every process must see instead (:mod:`parley.live.machine_bus`,
:mod:`parley.ratelimit.machine`, :mod:`parley.moderation.machine_rates`).

Why a file of its own rather than tables in the application database (docs/decisions/0007):

- it is short-lived bookkeeping (seconds to two days), so it runs with ``synchronous=OFF`` and is
  not migrated: a file whose schema version differs is emptied and started again;
- its writes (a rate-limit hit is one) never queue behind the application's writers' lock, and the
  application's change stamp does not move for them;
- one machine by construction, like the change stamp's file (:mod:`parley.db.changes`): instances
  on several machines share through Redis.

Each process opens its own connection (again after a fork) and serializes its threads on it with
a lock; SQLite's own locking (WAL, busy timeout) orders the processes. Every statement is short.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from parley.config import Settings

SCHEMA_VERSION = "1"
BUSY_MS = 2000  # a statement waits at most this long for another process's (microsecond) write

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # live events: the row id is the event id every process hands its readers
    "CREATE TABLE IF NOT EXISTS live_events (id INTEGER PRIMARY KEY AUTOINCREMENT, site_id INTEGER "
    "NOT NULL, thread_id INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, at REAL NOT NULL)",
    # request rate limits: the two windows of a sliding-window counter (parley.ratelimit.interfaces)
    "CREATE TABLE IF NOT EXISTS rate_counters (rule TEXT NOT NULL, key TEXT NOT NULL, window_no INTEGER "
    "NOT NULL, previous INTEGER NOT NULL, current INTEGER NOT NULL, expires REAL NOT NULL, "
    "PRIMARY KEY (rule, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS rate_counters_expires ON rate_counters (expires)",
    # moderation's flood and rate events (parley.moderation.backends.RateStore)
    "CREATE TABLE IF NOT EXISTS rate_events (key TEXT NOT NULL, ts REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rate_events_key_ts ON rate_events (key, ts)",
    "CREATE INDEX IF NOT EXISTS rate_events_ts ON rate_events (ts)",
)
_TABLES = ("live_events", "rate_counters", "rate_events", "meta")


def machine_file_path(settings: Settings) -> Path | None:
    """Where the processes sharing this database keep their shared state: beside a SQLite
    database, or in ``data_dir`` named after a PostgreSQL database's URL. None for an in-memory
    SQLite database (one process by construction)."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        return None if not path or path == ":memory:" else Path(f"{path}.shared")
    digest = hashlib.blake2b(settings.sqlalchemy_url.encode(), digest_size=8).hexdigest()
    return settings.data_dir / f"shared-{digest}.sqlite"


def _shared_path(settings: Settings) -> Path | None:
    """The machine file's path when live events and rate counts go through it: without Redis, when
    several processes serve (``workers`` > 1) or the settings ask for it, and the database is a file
    or a server (an in-memory database has one process); else None."""
    if settings.redis_url or not (settings.workers > 1 or settings.machine_shared_state):
        return None
    return machine_file_path(settings)


def shares_on_machine(settings: Settings) -> bool:
    """Whether live events and rate counts go through the machine file (:func:`_shared_path`)."""
    return _shared_path(settings) is not None


def machine_file_for(settings: Settings) -> MachineFile | None:
    """A handle on the shared file when the settings share through it (each store takes its own:
    its own connection, its own lock), else None."""
    path = _shared_path(settings)
    return MachineFile(path) if path is not None else None


class MachineFile:
    """The shared file, opened once per process (and again in a forked child)."""

    def __init__(self, path: Path, *, busy_ms: int = BUSY_MS) -> None:
        self.path = path
        self.busy_ms = busy_ms
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self.boot = ""  # changes when the file is started afresh: ids from before mean nothing

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.busy_ms / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            self._switch_to_wal(conn)
        except BaseException:
            conn.close()
            raise
        conn.execute("PRAGMA synchronous=OFF")  # bookkeeping: losing it to a power cut forgives, no more
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_ms)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = None
            has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            if has_meta:
                row = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
                version = row[0] if row else None
            if version != SCHEMA_VERSION:
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA:
                conn.execute(statement)
            if version != SCHEMA_VERSION:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                conn.execute("INSERT INTO meta VALUES ('boot', ?)", (secrets.token_hex(4),))
            self.boot = conn.execute("SELECT value FROM meta WHERE name = 'boot'").fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        return conn

    def _switch_to_wal(self, conn: sqlite3.Connection) -> None:
        """``PRAGMA journal_mode=WAL``, retried while another process holds the file.

        The switch of a new file (still in rollback-journal mode) needs the exclusive lock, taken
        over the shared lock its own read holds. When another process opening the file at the same
        time holds its write lock, SQLite answers ``SQLITE_BUSY`` at once instead of calling the
        busy handler (waiting could deadlock): workers started together lost that race (the rate
        limiter then failed open). The other opener finishes in microseconds and the file is then in
        WAL mode for good, so the switch is retried until the busy time is spent."""
        deadline = time.monotonic() + self.busy_ms / 1000
        pause = 0.001
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, one thread at a time. Statements autocommit unless the caller
        opens a transaction (see :meth:`transaction`)."""
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                self._conn = self._open()  # a forked child's copy of the parent's is not used
                self._pid = os.getpid()
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: a read and the write that depends on it, atomic across
        the processes (rolled back on any exception)."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
