"""The database layer: UTC datetimes on every backend, SQLite pragmas and write locking, units of work."""

from __future__ import annotations

import contextvars
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from parley.config import Settings
from parley.db import migrate
from parley.db.database import BatchCommitFailed, CpuTurns, Database
from parley.db.types import IsoTimestamp, UTCDateTime


def test_utc_datetimes() -> None:
    col = UTCDateTime()
    berlin = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    stored = col.process_bind_param(berlin, sqlite.dialect())
    assert stored == datetime(2026, 3, 1, 12, 0)  # naive UTC in SQLite
    assert col.process_bind_param(berlin, postgresql.dialect()) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert col.process_result_value(stored, sqlite.dialect()) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert col.process_result_value("2026-03-01 12:00:00.000001", sqlite.dialect()) == datetime(
        2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC
    )
    assert col.process_result_value(berlin, postgresql.dialect()) == berlin.astimezone(UTC)
    assert col.process_bind_param(None, sqlite.dialect()) is None
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 3, 1), sqlite.dialect())


@pytest.mark.parametrize(
    ("stored", "text"),
    [
        ("2026-03-01 12:00:00.123456", "2026-03-01T12:00:00.123456Z"),  # SQLite, as SQLAlchemy writes it
        ("2026-03-01 12:00:00.000000", "2026-03-01T12:00:00Z"),  # like isoformat: no zero fraction
        ("2026-03-01 12:00:00", "2026-03-01T12:00:00Z"),
        ("2026-03-01T13:00:00+01:00", "2026-03-01T12:00:00Z"),  # anything else is parsed
        (
            datetime(2026, 3, 1, 13, 0, 0, 5, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-01T12:00:00.000005Z",
        ),
        (None, None),
    ],
)
def test_iso_timestamps_as_read(stored: object, text: str | None) -> None:
    assert IsoTimestamp().process_result_value(stored, sqlite.dialect()) == text
    with pytest.raises(TypeError):
        IsoTimestamp().process_bind_param(stored, sqlite.dialect())


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    return Database(Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path, secret_key="k" * 40))


def test_sqlite_runs_in_wal_with_durable_commits(database: Database) -> None:
    with database.read() as s:
        conn = s.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_a_write_unit_holds_the_write_lock_from_its_start(database: Database) -> None:
    path = database.engine.url.database
    assert path
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with database.write() as s:
        s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE happened: nobody else may start writing
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after the commit
    other.execute("ROLLBACK")
    other.close()
    database.dispose()


def test_units_of_work_commit_or_roll_back(database: Database) -> None:
    with database.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (1)"))

    def fail_half_way() -> None:
        with database.write() as s:
            s.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()
    with database.read() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [1]
        s.execute(text("INSERT INTO t VALUES (3)"))  # a read unit never commits
    with database.read() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 1
    database.dispose()


VIA = pytest.mark.parametrize("via", ["write", "run_write"])
"""The queued units each in a ``write()`` of its own thread, or given to the writer thread."""


def _queue_behind_a_held_unit(
    database: Database, units: list[Callable[[Session], None]], via: str = "write"
) -> tuple[list[BaseException | None], list[bool]]:
    """Open ``units[0]``'s write unit and, while it holds the writers' lock, start the others so
    they queue behind it (``via``: each in ``write()`` on a thread of its own, or through
    ``run_write`` to the writer thread), then let it run; returns each unit's exception (or None)
    and whether its row ``t(x = index)`` was readable by another connection when it returned."""
    path = database.engine.url.database
    assert path
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException | None] = [None] * len(units)
    visible = [False] * len(units)

    def run(i: int) -> None:
        try:
            if i and via == "run_write":
                database.run_write(units[i])
            else:
                with database.write() as s:
                    if i == 0:  # holds the lock from here: write() took it on entry
                        holding.set()
                        assert release.wait(10)
                    units[i](s)
        except BaseException as exc:
            errors[i] = exc
        other = sqlite3.connect(path)
        visible[i] = other.execute("SELECT count(*) FROM t WHERE x = ?", (i,)).fetchone()[0] == 1
        other.close()

    first = threading.Thread(target=run, args=(0,))
    first.start()
    assert holding.wait(10)
    rest = [threading.Thread(target=run, args=(i,)) for i in range(1, len(units))]
    for t in rest:
        t.start()
    deadline = time.monotonic() + 10
    while not _all_queued(database, len(rest), via) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in [first, *rest]:
        t.join(10)
    return errors, visible


def _all_queued(database: Database, count: int, via: str) -> bool:
    if via == "run_write":  # the writer waits for the lock with the first, the others wait for it
        return database._waiting == 1 and database._jobs.qsize() == count - 1
    return database._waiting == count


def _insert(i: int) -> Callable[[Session], None]:
    return lambda s: s.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": i}) and None


def _fail(i: int) -> Callable[[Session], None]:
    def unit(s: Session) -> None:
        s.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": i})
        raise RuntimeError("boom")

    return unit


@VIA
def test_units_queued_for_the_lock_share_one_commit_and_return_after_it(database: Database, via: str) -> None:
    with database.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    before = (database.batches, database.batched_units)
    errors, visible = _queue_behind_a_held_unit(database, [_insert(i) for i in range(5)], via)
    assert errors == [None] * 5
    assert visible == [True] * 5  # nobody returned before the commit that holds its row
    assert (database.batches - before[0], database.batched_units - before[1]) == (1, 5)
    database.dispose()


@VIA
def test_a_failing_unit_in_a_batch_takes_back_only_its_own_work(database: Database, via: str) -> None:
    with database.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    errors, visible = _queue_behind_a_held_unit(database, [_insert(0), _insert(1), _fail(2), _insert(3)], via)
    assert [type(e).__name__ if e else None for e in errors] == [None, None, "RuntimeError", None]
    assert visible == [True, True, False, True]
    with database.read() as s:
        assert sorted(s.execute(text("SELECT x FROM t")).scalars()) == [0, 1, 3]
    database.dispose()


@VIA
def test_a_failing_first_unit_leaves_the_queued_ones_alone(database: Database, via: str) -> None:
    with database.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    errors, visible = _queue_behind_a_held_unit(database, [_fail(0), _insert(1), _insert(2)], via)
    assert [type(e).__name__ if e else None for e in errors] == ["RuntimeError", None, None]
    assert visible == [False, True, True]
    with database.read() as s:
        assert sorted(s.execute(text("SELECT x FROM t")).scalars()) == [1, 2]
    database.dispose()


def test_a_batch_handed_to_a_unit_that_never_comes_is_committed_anyway(database: Database) -> None:
    """A waiting thread counted itself and was interrupted before it took the lock: the unit that
    handed the transaction on must not wait for it forever."""
    with database.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    returned = threading.Event()

    def unit() -> None:
        with database.write() as s:
            s.execute(text("INSERT INTO t (x) VALUES (1)"))
            database._waiting += 1  # a waiter that will never take the lock
        returned.set()

    t = threading.Thread(target=unit, daemon=True)
    t.start()
    try:
        assert returned.wait(5), "the unit waited for a commit nobody would make"
    finally:
        database._waiting -= 1
    with database.read() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [1]
    database.dispose()


@VIA
def test_when_the_shared_commit_fails_every_unit_of_the_batch_fails_and_none_is_stored(
    database: Database, via: str
) -> None:
    # a deferred foreign key is checked at COMMIT only: the one unit that breaks it fails the batch
    with database.write() as s:
        s.execute(text("CREATE TABLE p (id INTEGER PRIMARY KEY)"))
        s.execute(
            text("CREATE TABLE t (x INTEGER, p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
        )

    def dangling(s: Session) -> None:
        s.execute(text("INSERT INTO t VALUES (1, 99)"))

    errors, visible = _queue_behind_a_held_unit(database, [_insert(0), dangling, _insert(2)], via)
    assert all(isinstance(e, BatchCommitFailed) for e in errors), errors
    assert visible == [False, False, False]
    with database.read() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 0
    database.run_write(lambda s: s.execute(text("INSERT INTO t VALUES (5, NULL)")))  # the next starts afresh
    with database.read() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [5]
    database.dispose()


def test_the_writer_thread_runs_a_unit_in_its_givers_context_and_pauses_the_cpu_turns_meanwhile(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Once the writer holds the writers' lock it waits for the process's CPU turn under way (a
    POST's models) to end, and no new turn starts until it is done with the lock."""
    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    database = Database(Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path, secret_key="k" * 40))
    turns = database.cpu_turns
    database.run_write(lambda s: s.execute(text("CREATE TABLE t (x INTEGER)")))
    giver: contextvars.ContextVar[str] = contextvars.ContextVar("giver", default="none")
    inside, go, turn_taken = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def unit(s: Session) -> int:
        seen["context"] = giver.get()
        seen["thread"] = threading.current_thread().name
        s.execute(text("INSERT INTO t VALUES (1)"))
        inside.set()
        assert go.wait(5)
        return 42

    def take_a_turn() -> None:
        with turns:
            turn_taken.set()

    def give() -> None:
        giver.set("the request")
        seen["result"] = database.run_write(unit)

    turns.acquire()  # a turn under way when the writer takes the lock
    giving = threading.Thread(target=give)
    giving.start()
    assert not inside.wait(0.3)  # the writer waits for that turn to end
    turns.release()
    assert inside.wait(5)
    taking = threading.Thread(target=take_a_turn)
    taking.start()
    assert not turn_taken.wait(0.3)  # no new turn while the writer holds the lock
    go.set()
    giving.join(5)
    assert turn_taken.wait(5)
    taking.join(5)
    assert seen == {"context": "the request", "thread": "parley-db-writer", "result": 42}
    writer = database._writer
    assert writer is not None
    assert writer.is_alive()
    database.dispose()
    assert not writer.is_alive()  # dispose stops it


def test_cpu_turns_go_one_at_a_time() -> None:
    turns = CpuTurns()
    running, most = 0, 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal running, most
        for _ in range(50):
            with turns:
                with guard:
                    running += 1
                    most = max(most, running)
                time.sleep(0.0005)
                with guard:
                    running -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):  # a writer pausing them now and then
        turns.pause()
        with guard:
            assert running == 0
        turns.resume()
        time.sleep(0.001)
    for t in threads:
        t.join(10)
    assert most == 1


def test_the_writer_thread_outlives_whatever_a_unit_raises(database: Database) -> None:
    class Interrupted(BaseException):
        pass

    def interrupted(s: Session) -> None:
        raise Interrupted

    database.run_write(lambda s: s.execute(text("CREATE TABLE t (x INTEGER)")))
    with pytest.raises(Interrupted):
        database.run_write(interrupted)
    unit_session = database._unit_session

    def no_session(*args: Any) -> Session:
        database._unit_session = unit_session  # type: ignore[method-assign]
        raise RuntimeError("no session")

    database._unit_session = no_session  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="no session"):  # around the unit: raised all the same
        database.run_write(_insert(6))
    database.run_write(_insert(7))
    with database.read() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [7]
    database.dispose()


def test_a_database_error_does_not_carry_the_statements_parameters(database: Database) -> None:
    """The 500 handler logs the traceback of an unexpected error; a statement's parameters are
    comment bodies and addresses, and must not be in it."""
    secret = "geheim.leser@example.org"
    for unit in (database.write, database.read):
        with pytest.raises(OperationalError, match="no_such_table") as failed, unit() as s:
            s.execute(text("INSERT INTO no_such_table VALUES (:address)"), {"address": secret})
        assert secret not in str(failed.value)
        assert secret not in repr(failed.value)
    database.dispose()


def test_migration_state(tmp_path: Path, sqlite_template: Path) -> None:
    empty = Settings(
        database_url=f"sqlite:///{tmp_path / 'sub' / 'new.db'}", data_dir=tmp_path, secret_key="k" * 40
    )
    assert migrate.current(empty) is None
    assert not migrate.is_up_to_date(empty)
    assert not (tmp_path / "sub").exists()  # asking does not create anything
    done = Settings(database_url=f"sqlite:///{sqlite_template}", data_dir=tmp_path, secret_key="k" * 40)
    assert migrate.is_up_to_date(done)
    assert migrate.current(done) in migrate.heads(done)
