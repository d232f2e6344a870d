"""The database layer: UTC datetimes on every backend, SQLite pragmas and write locking, units of work."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from parley.config import Settings
from parley.db import migrate
from parley.db.database import Database
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
