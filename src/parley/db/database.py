"""Engines and the unit of work.

Services never commit: a request handler or CLI command opens ``db.write()`` (or ``db.read()``),
calls services with the session, and the context manager commits once at the end. That makes the
request the transaction and lets callers combine steps.

SQLite runs in WAL mode. Write transactions start with ``BEGIN IMMEDIATE`` so two writers never
deadlock on a lock upgrade, and a process-local lock queues writers in the process instead of
letting them spin in SQLite's busy handler; across worker processes an ``flock`` on a lock file
does the same (see :func:`_open_lock_file`). ``synchronous=FULL`` (default) makes an acknowledged
commit durable across power loss; see ``docs/decisions/0002-sqlite-durability.md``.

PostgreSQL runs ``READ COMMITTED``, a transaction per unit, begun at the unit's first statement
that needs one (a write, a locking read, a savepoint: ``direct.begin_at_first_write``, decision
0013): plain reads before it read what they would have read inside, and a unit whose only write is
one statement (a POST's deferred writes) needs no ``BEGIN`` and ``COMMIT`` around it.
"""

from __future__ import annotations

import contextvars
import fcntl
import functools
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from parley.config import Settings
from parley.db.changes import WHOLE, ChangeStamp, Slots, stamp_for, thread_slot
from parley.db.checkout import check_on_checkout
from parley.db.direct import begin_at_first_write, defer_writes, savepoints_on_the_driver

BATCH_UNITS = 16
"""At most this many units share one SQLite write transaction."""
BATCH_SECONDS = 0.1
"""A batch takes no new unit after this long (the first unit's wait for its commit stays short)."""


T = TypeVar("T")
log = logging.getLogger(__name__)


class BatchCommitFailed(RuntimeError):
    """The shared write transaction that held a unit's work did not commit: none of it is stored."""


class _Batch:
    """Group commit on SQLite. Units of work queue for the writers' lock anyway; when one ends while
    others wait, it leaves the transaction open and the next unit continues it (each in a savepoint
    of its own, so a failing unit takes back only its own work), until nobody waits, the batch holds
    :data:`BATCH_UNITS` units or is :data:`BATCH_SECONDS` old. Then the unit that ended last commits
    once, with one sync to disk for all of them, and wakes the others. No unit returns before the
    commit that holds its work, so an acknowledged write stays durable (``synchronous=FULL``)."""

    __slots__ = ("broken", "connection", "done", "error", "started", "units")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.started = time.monotonic()
        self.units = 0
        self.broken = False  # a unit could not be taken back: the batch rolls back whole
        self.error: BaseException | None = None
        self.done = threading.Event()

    def expired(self) -> bool:
        return time.monotonic() - self.started >= BATCH_SECONDS


@dataclass
class LockTime:
    """Seconds of one part of the writers' lock's use, on the wall clock and in the holding
    thread's CPU: their difference is what the holder waited for (the GIL, the disk, the other
    process's ``flock``)."""

    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall0: float, cpu0: float) -> None:
        self.wall += time.perf_counter() - wall0
        self.cpu += time.thread_time() - cpu0


class CpuTurns:
    """CPU-bound request work done outside the writers' lock (a POST's reads before it, its
    rendering and its models' scores) takes turns, one request at a time per process
    (``Registry.cpu_turns``). On SQLite the database's writer thread pauses the turns while it
    holds the writers' lock, which every process shares: it waits for the turn under way to end,
    and no new one starts until it is done with the lock, so the writer is not kept waiting for
    the GIL at every statement it sends (a unit held the lock 1.9 ms on the wall clock for 1.35 ms
    of its own CPU, docs/performance.md)."""

    def __init__(self) -> None:
        guard = threading.Lock()
        self._turn_free = threading.Condition(guard)  # for the requests' threads
        self._turn_ended = threading.Condition(guard)  # for the writer that paused the turns
        self._taken = False
        self._paused = False

    def acquire(self) -> None:
        with self._turn_free:
            while self._taken or self._paused:
                self._turn_free.wait()
            self._taken = True

    def release(self) -> None:
        with self._turn_free:
            self._taken = False
            (self._turn_ended if self._paused else self._turn_free).notify()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def pause(self) -> None:
        """Wait for the turn under way to end; no new turn starts until :meth:`resume`."""
        with self._turn_free:
            self._paused = True
            while self._taken:
                self._turn_ended.wait()

    def resume(self) -> None:
        with self._turn_free:
            self._paused = False
            self._turn_free.notify()


@dataclass(eq=False)
class _Job:
    """A unit of work handed to the writer thread (:meth:`Database.run_write`)."""

    unit: Callable[[Session], Any]
    context: contextvars.Context  # the submitting thread's: the unit runs in it
    changed: _Changes = field(default_factory=lambda: _Changes())
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def end(self, error: BaseException | None) -> None:
        """Wake the thread that gave the job (``error``: what it raises)."""
        self.error = error
        self.done.set()


class Database:
    """Holds the engines and hands out sessions. One per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cpu_turns = CpuTurns()  # the process's (Registry.cpu_turns); SQLite's writer pauses them
        url = make_url(settings.sqlalchemy_url)
        self.dialect = url.get_backend_name()
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._lock_file: int | None = None
        self._batch: _Batch | None = None  # the open group-commit transaction (SQLite)
        self._waiting = 0  # units waiting for the writers' lock in this process
        self._waiting_guard = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # for the writer thread
        self._writer: threading.Thread | None = None
        self._writer_pid = 0  # the process that started it (a forked child starts its own)
        self._writer_guard = threading.Lock()
        self.batches = 0  # SQLite transactions committed or rolled back, and the units they held
        self.batched_units = 0
        # SQLite: how long this process held the writers' lock, by part: opening a transaction
        # (the other processes' flock, BEGIN IMMEDIATE), the units' bodies, the commits (/metrics).
        # Each is added to by the lock's holder only.
        self.lock_time = {part: LockTime() for part in ("open", "unit", "commit")}
        if self.dialect == "sqlite":
            db_path = url.database or ""
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
                self._lock_file = _open_lock_file(db_path)
            self.engine = self._sqlite_engine(settings.sqlalchemy_url, immediate=False)
            self.write_engine = self._sqlite_engine(settings.sqlalchemy_url, immediate=True)
        else:
            self.engine = create_engine(
                settings.sqlalchemy_url,
                json_serializer=json_dumps,
                hide_parameters=True,  # see _sqlite_engine
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                pool_recycle=1800,
            )
            check_on_checkout(self.engine)  # a poll of the socket instead of pool_pre_ping's statement
            self.write_engine = self.engine
        # replaced after every commit: lets caches elsewhere trust what they read (parley.db.changes)
        self.changes: ChangeStamp = stamp_for(
            settings.sqlalchemy_url,
            sqlite_path=(url.database or "") if self.dialect == "sqlite" else None,
            data_dir=settings.data_dir,
            redis_url=settings.redis_url,
        )
        event.listen(self.write_engine, "after_cursor_execute", _note_change)
        for engine in {self.engine, self.write_engine}:
            savepoints_on_the_driver(engine)
        begin_at_first_write(self.engine)  # PostgreSQL: no BEGIN for reads (before defer_writes' listeners)
        defer_writes(self.write_engine)  # PostgreSQL: writes nobody reads go out merged (Direct.defer)
        self._read = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False, autoflush=True)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def writers_take_turns(self) -> bool:
        """Write units run one at a time (SQLite's writers' lock): work that can be done before
        :meth:`write` should be, so the lock is held for less."""
        return self._write_lock is not None

    def _sqlite_engine(self, url: str, *, immediate: bool) -> Engine:
        engine = create_engine(
            url,
            json_serializer=json_dumps,
            # a database error's message would carry the statement's parameters (comment bodies,
            # addresses) into the log through the 500 handler's traceback: never
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=24,
            # The connection used last first: SQLite drops a connection's page cache whenever another
            # connection changed the database, so handing out every pooled connection in turn (the
            # default) made each unit of work start on a cold cache. With the writers' lock the
            # write engine now uses a single connection, whose cache its own commits keep valid.
            pool_use_lifo=True,
        )
        synchronous = self.settings.sqlite_synchronous

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # let SQLAlchemy, not the driver, emit BEGIN (pysqlite's implicit BEGIN is deferred)
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-16000")
            cur.close()

        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # on the driver: SQLAlchemy's execution path cost more than the statement (every read
            # unit of work begins here)
            conn.connection.driver_connection.execute(begin)

        return engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Closing ends the transaction (nothing to commit); objects stay
        readable, detached, after the block."""
        session = self._read()
        try:
            yield session
        finally:
            session.close()

    def write(self) -> AbstractContextManager[Session]:
        """A write unit of work: commits at the end, rolls back on any exception.

        On SQLite, units waiting for the writers' lock share one transaction (group commit, see
        :class:`_Batch`); a unit still returns only after the commit that holds its work.
        """
        if self._write_lock is None:
            return self._own_transaction()
        return self._batched()

    @contextmanager
    def _own_transaction(self) -> Iterator[Session]:
        """PostgreSQL: a transaction per unit (the server runs writers side by side)."""
        session = self._write()
        changed = _Changes()  # filled by _note_change and touch_threads during this unit
        noting = _CHANGED.set(changed)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        else:
            if changed.rows:
                self.changes.bump(changed.slots())  # after the commit: who sees the new stamp sees the data
        finally:
            _CHANGED.reset(noting)
            session.close()

    @contextmanager
    def _batched(self) -> Iterator[Session]:
        """SQLite: run the unit inside the current batch's transaction (opening one if none is
        open), then hand the open transaction to the next waiting unit or commit it."""
        lock = self._write_lock
        assert lock is not None
        batch = self._take_lock()
        first = batch.units == 0
        session = self._unit_session(batch, first)
        changed = _Changes()  # filled by _note_change and touch_threads during this unit
        noting = _CHANGED.set(changed)
        error: BaseException | None = None
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            yield session
        except BaseException as exc:
            error = exc
        try:
            error = self._end_unit(batch, session, error, wall0, cpu0)  # its flush is noted too
        finally:
            _CHANGED.reset(noting)
        if (
            not (first and error is not None)  # its failure rolled back the transaction: start afresh
            and not batch.broken
            and self._waiting
            and batch.units < BATCH_UNITS
            and not batch.expired()
        ):
            lock.release()  # the next unit continues this transaction
            if error is not None:
                raise error  # nothing of this unit is in the batch: no need to wait for its commit
            self._await_commit(batch)
        else:
            self._finish_batch(batch)
            if error is not None:
                raise error
        if batch.error is not None:
            raise BatchCommitFailed("the write transaction holding this unit failed") from batch.error
        if changed.rows:
            self.changes.bump(changed.slots())  # after the commit: who sees the new stamp sees the data

    def _take_lock(self) -> _Batch:
        """Wait for the writers' lock (counted as waiting, so the unit holding it hands its
        transaction on instead of committing) and return the open batch, opening one if none is."""
        lock = self._write_lock
        assert lock is not None
        with self._waiting_guard:
            self._waiting += 1
        try:
            lock.acquire()
        finally:
            with self._waiting_guard:
                self._waiting -= 1
        try:
            return self._batch or self._open_batch()
        except BaseException:
            lock.release()
            raise

    def _unit_session(self, batch: _Batch, first: bool) -> Session:
        # the first unit needs no savepoint: if it fails, the whole transaction is only its own
        return self._write(
            bind=batch.connection, join_transaction_mode="rollback_only" if first else "create_savepoint"
        )

    def _end_unit(
        self, batch: _Batch, session: Session, error: BaseException | None, wall0: float, cpu0: float
    ) -> BaseException | None:
        """Flush and release the unit's savepoint, or take it back after ``error``; count the unit
        in its batch. Returns the unit's error, if any."""
        try:
            if error is None:
                session.commit()  # flushes; releases this unit's savepoint, the batch commits later
        except BaseException as exc:
            error = exc
        if error is not None:
            try:
                session.rollback()  # the first unit: the transaction; any other: its savepoint
            except BaseException:
                batch.broken = True  # the transaction may hold half of this unit: nobody's work is kept
        session.close()
        self.lock_time["unit"].add(wall0, cpu0)
        batch.units += 1
        return error

    def run_write(self, unit: Callable[[Session], T]) -> T:
        """Run ``unit`` as a write unit of work, as ``with db.write() as s: return unit(s)`` would,
        and return its result once the transaction holding it is committed.

        On SQLite the units of a process given here run on one writer thread, one after the other
        in shared transactions (:class:`_Batch`), each in the context of the thread that gave it:
        the lock goes from one unit to the next without a thread hand-over (a wake-up in the
        kernel, then a wait for the GIL, while the lock, shared by every process, is held: 0.3 ms
        a unit under a flood of POSTs, docs/performance.md). The giving thread waits for the
        commit. PostgreSQL runs writers side by side: the unit runs on the calling thread."""
        if self._write_lock is None:
            with self.write() as session:
                return unit(session)
        job = _Job(unit, contextvars.copy_context())
        self._writer_started()
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        if job.changed.rows:
            self.changes.bump(job.changed.slots())  # after the commit: who sees the new stamp sees the data
        return job.result  # type: ignore[no-any-return]

    def _writer_started(self) -> None:
        if self._writer is not None and self._writer_pid == os.getpid():
            return
        with self._writer_guard:
            if self._writer is None or self._writer_pid != os.getpid():
                self._jobs = queue.SimpleQueue()  # a forked child: its parent's queue is not its own
                self._writer = threading.Thread(target=self._write_jobs, name="parley-db-writer", daemon=True)
                self._writer_pid = os.getpid()
                self._writer.start()

    def _write_jobs(self) -> None:
        """The writer thread's loop, until :meth:`dispose` queues ``None``."""
        jobs = self._jobs
        while (job := jobs.get()) is not None:
            try:
                self._write_batch(job, jobs)
            except BaseException:  # the writer must outlive anything: every POST of the process waits on it
                log.exception("the database's writer thread failed a batch")

    def _write_batch(self, job: _Job, jobs: queue.SimpleQueue[_Job | None]) -> None:
        """Take the writers' lock for ``job`` and run the jobs that wait after it in the same
        transaction (up to :data:`BATCH_UNITS`, :data:`BATCH_SECONDS`), then commit and wake their
        threads. While it holds the lock, the writer pauses the process's :attr:`cpu_turns`."""
        try:
            batch = self._take_lock()
        except BaseException as exc:
            job.end(exc)
            return
        ran: list[_Job] = []
        self.cpu_turns.pause()
        try:
            while True:
                first = batch.units == 0
                try:
                    self._run_job(batch, job, first)
                except BaseException as exc:  # around the unit (its session): the transaction's state is
                    job.error = exc  # unknown
                    batch.broken = True
                if job.error is not None:
                    job.end(job.error)  # nothing of it is in the batch: no need to wait for its commit
                    if first:  # the transaction was only its own, and is gone
                        break
                else:
                    ran.append(job)
                if batch.broken or batch.units >= BATCH_UNITS or batch.expired():
                    break
                try:
                    following = jobs.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    jobs.put(None)  # stop after this batch
                    break
                job = following
        finally:
            self.cpu_turns.resume()  # the commit is mostly the sync to disk: the turns go on meanwhile
            try:
                self._finish_batch(batch)
            finally:
                failed = None
                if batch.error is not None:
                    failed = BatchCommitFailed("the write transaction holding this unit failed")
                    failed.__cause__ = batch.error
                for done in ran:
                    done.end(failed)

    def _run_job(self, batch: _Batch, job: _Job, first: bool) -> None:
        session = self._unit_session(batch, first)
        job.context.run(self._job_in_context, batch, job, session)

    def _job_in_context(self, batch: _Batch, job: _Job, session: Session) -> None:
        """A job's unit and its flush, in the context of the thread that gave it (a copy), with its
        changes noted."""
        _CHANGED.set(job.changed)
        error: BaseException | None = None
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            job.result = job.unit(session)
        except BaseException as exc:
            error = exc
        job.error = self._end_unit(batch, session, error, wall0, cpu0)

    def _await_commit(self, batch: _Batch) -> None:
        """Wait until ``batch`` is committed. Should the unit it was handed to never come (a waiting
        thread interrupted between counting itself and taking the lock), whoever finds the lock
        free and the batch still open commits it: a batch never waits for a unit that is not there."""
        lock = self._write_lock
        assert lock is not None
        while not batch.done.wait(BATCH_SECONDS):
            if lock.acquire(blocking=False):
                if self._batch is batch:  # idle: no unit holds the lock, so none is running in it
                    self._finish_batch(batch)
                else:
                    lock.release()

    def _open_batch(self) -> _Batch:
        """Take the cross-process lock and begin the transaction (``BEGIN IMMEDIATE``)."""
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)  # blocks in the kernel, without the GIL
        try:
            connection = self.write_engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
        except BaseException:
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            raise
        batch = _Batch(connection)
        self._batch = batch
        self.lock_time["open"].add(wall0, cpu0)
        return batch

    def _finish_batch(self, batch: _Batch) -> None:
        """Commit the batch (roll it back if it broke), free both locks, wake its waiting units.
        Runs with the writers' lock held; releases it."""
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            transaction = batch.connection.get_transaction()  # None: the only unit rolled it back
            if batch.broken:
                batch.error = RuntimeError("a unit of this write transaction could not be taken back")
                if transaction is not None:
                    transaction.rollback()
            elif transaction is not None:
                transaction.commit()
        except BaseException as exc:
            if batch.error is None:
                batch.error = exc
            # SQLite may keep the transaction open after a failed COMMIT: never pool that connection
            batch.connection.invalidate()
        finally:
            self._batch = None
            self.batches += 1
            self.batched_units += batch.units
            self.lock_time["commit"].add(wall0, cpu0)
            try:
                batch.connection.close()
            finally:
                if self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                assert self._write_lock is not None
                self._write_lock.release()
                batch.done.set()

    def dispose(self) -> None:
        writer, jobs = self._writer, self._jobs
        if writer is not None and self._writer_pid == os.getpid():
            jobs.put(None)  # the units given before it still run
            writer.join(timeout=30)
        self._writer = None
        while True:  # given after the writer stopped: refused, not left waiting
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.end(RuntimeError("the database was closed before this write unit ran"))
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
        self.changes.close()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def json_dumps(value: Any) -> str:
    """JSON columns' encoder (orjson: a POST writes four JSON values inside the writers' lock, and
    the standard library's encoder took 0.4 ms of it). Non-string keys become strings, as with
    :func:`json.dumps`."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class _Changes:
    """What one write unit changed that readers may see (see :mod:`parley.db.changes`)."""

    __slots__ = ("rows", "threads", "wide")

    def __init__(self) -> None:
        self.rows = False  # a statement changed rows that public reads show
        self.wide = False  # ... beyond the rows of the threads in ``threads``
        self.threads: set[int] = set()

    def slots(self) -> Slots:
        """The stamp's slots this unit's commit replaces: its threads' when it named them and
        changed nothing else; else the whole database's."""
        if self.wide or not self.threads:
            return (WHOLE,)
        return tuple({thread_slot(t) for t in self.threads})


_CHANGED: contextvars.ContextVar[_Changes | None] = contextvars.ContextVar("parley_db_changed", default=None)
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "SHOW", "SET")
_TARGET = re.compile(
    r"\s*(INSERT|UPDATE|DELETE)\s+(?:OR\s+\w+\s+)?(?:INTO\s+|FROM\s+)?\"?(\w+)", re.IGNORECASE
)
# Bookkeeping no public read shows: the job queue's polls and claims, sessions' last-seen times,
# idempotency records, deliveries, notifications. Writes to them alone leave the stamp as it is.
UNSEEN_TABLES = frozenset(
    {
        "jobs",
        "sessions",
        "used_token_ids",
        "idempotency_keys",
        "webhook_deliveries",
        "notifications",
        "notification_settings",
        "audit_events",
        "api_tokens",
        "pending_registrations",
    }
)
# Columns no public read shows, of tables that have others: an UPDATE that sets one of them alone
# (a returning guest's login time) leaves the stamp as it is.
UNSEEN_COLUMNS = frozenset({("accounts", "last_login_at")})
# (no comma before the first WHERE: one column is set, whatever its value's expression or cast)
_ONE_COLUMN = re.compile(r"\s*UPDATE\s+\"?\w+\"?\s+SET\s+\"?(\w+)\"?\s*=[^,]*?\sWHERE\s", re.IGNORECASE)


def _sets_an_unseen_column_alone(statement: str, table: str) -> bool:
    one = _ONE_COLUMN.match(statement)
    return one is not None and (table, one.group(1).lower()) in UNSEEN_COLUMNS


# Writes that change the rows of the threads a unit names (touch_threads) and nothing another
# thread's readers see: comments and their votes, revisions, reports and moderation records, the
# thread's own row (its counters and version), and a new account (a guest posting: no other thread
# shows it). A new thread, a changed account (its name shows in every thread it wrote in) or a site
# is a change for everybody.
_MODERATION = ("moderation_decisions", "moderation_copy_signatures", "moderation_copy_bands")
THREAD_WRITES = frozenset(
    [("INSERT", t) for t in ("comments", "votes", "comment_revisions", "reports", "accounts", *_MODERATION)]
    + [("UPDATE", t) for t in ("comments", "votes", "comment_revisions", "reports", "threads", *_MODERATION)]
    + [("DELETE", t) for t in ("votes", "comment_revisions", *_MODERATION)]
)


def touch_threads(*thread_ids: int) -> None:
    """Tell the running write unit that its changes readers see are to these threads' rows (called
    where a thread's version is bumped: every change its readers see does that, see
    :func:`parley.comments.threads.bump_version`). A unit that names no thread, or also writes
    beyond :data:`THREAD_WRITES`, replaces the whole database's stamp. Outside a unit: nothing."""
    box = _CHANGED.get()
    if box is not None:
        box.threads.update(thread_ids)


def touch_all_threads() -> None:
    """Tell the running write unit that it changed what readers of any thread may see (a statement
    that bumps many threads' versions at once, like an author's rename)."""
    box = _CHANGED.get()
    if box is not None:
        box.wide = True


_IGNORED, _THREAD_BOUND, _WIDE = 0, 1, 2


@functools.lru_cache(maxsize=4096)
def _kind_of(statement: str) -> int:
    """What a statement's text says about the rows it may change (cached: the same few dozen texts
    run again and again): none readers see (a read, bookkeeping, an unseen column alone), only rows
    of threads (:data:`THREAD_WRITES`), or anything."""
    if statement.lstrip()[:9].upper().startswith(_READS):
        return _IGNORED
    target = _TARGET.match(statement)
    if target is None:
        return _WIDE
    verb, table = target.group(1).upper(), target.group(2).lower()
    if table in UNSEEN_TABLES:
        return _IGNORED
    if verb == "UPDATE" and _sets_an_unseen_column_alone(statement, table):
        return _IGNORED
    return _THREAD_BOUND if (verb, table) in THREAD_WRITES else _WIDE


def _note_change(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
) -> None:
    """Engine event: note in the current write unit what a statement changed: rows readers may see
    (anything but a read, a write to :data:`UNSEEN_TABLES` or to one of :data:`UNSEEN_COLUMNS` alone,
    with a row count other than 0), and whether beyond the rows of threads (:data:`THREAD_WRITES`).
    Job polls and writes that match nothing leave the change stamp alone, so readers' caches stay
    valid."""
    box = _CHANGED.get()
    if box is None or (box.rows and box.wide):  # nothing left to learn
        return
    kind = _kind_of(statement)
    if kind == _IGNORED or getattr(cursor, "rowcount", -1) == 0:
        return
    box.rows = True
    if kind == _WIDE:
        box.wide = True


def _open_lock_file(db_path: str) -> int:
    """The file the writers of every process take turns on (``flock``), next to the database.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps in
    steps of up to 100 ms and polls. With several worker processes that left a waiting writer
    asleep long after the lock was free: under a stream of POSTs a third of the CPU sat idle and
    p99 reached seconds. Waiting on an ``flock`` instead wakes the next writer the moment the
    lock is released. The kernel releases it when a process dies, so a crash leaves no lock.
    """
    return os.open(f"{db_path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
