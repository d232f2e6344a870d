"""The database's change stamp (``parley.db.changes``) and when ``Database.write`` replaces it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from parley.db.changes import FileStamp, LocalStamp, RedisStamp, stamp_for
from parley.db.database import Database
from support.apps import settings_for
from support.servers import RedisServer, free_port


def test_a_file_stamp_is_shared_by_every_mapping_of_the_file(tmp_path: Path) -> None:
    one, two = FileStamp(tmp_path / "s"), FileStamp(tmp_path / "s")
    try:
        before = two.current()
        assert before is not None
        assert one.current() == before
        one.bump()
        assert two.current() != before
        assert two.current() == one.current()
    finally:
        one.close()
        two.close()
    assert one.current() is None  # closed: unknown, so nobody trusts it


def test_local_stamp_and_the_choice_by_database(tmp_path: Path) -> None:
    local = LocalStamp()
    seen = local.current()
    local.bump()
    assert local.current() != seen
    assert isinstance(
        stamp_for("sqlite://", sqlite_path=":memory:", data_dir=tmp_path, redis_url=None), LocalStamp
    )
    beside = stamp_for(
        "sqlite:///x.db", sqlite_path=str(tmp_path / "x.db"), data_dir=tmp_path, redis_url="redis://"
    )
    assert isinstance(beside, FileStamp)  # SQLite is one machine: Redis is not needed for it
    assert (tmp_path / "x.db.changes").exists()
    beside.close()
    pg = stamp_for("postgresql://h/db", sqlite_path=None, data_dir=tmp_path, redis_url=None)
    assert isinstance(pg, FileStamp)
    pg.close()


def test_a_redis_stamp_is_shared_by_instances_and_fails_to_unknown(redis_server: RedisServer) -> None:
    a = RedisStamp(redis_server.url, "parley:changes:test")
    b = RedisStamp(redis_server.url, "parley:changes:test")
    try:
        assert a.current() is None  # never set: unknown, and now set
        first = b.current()
        assert first is not None
        a.bump()
        assert b.current() not in (None, first)
    finally:
        a.close()
        b.close()
    down = RedisStamp(f"redis://127.0.0.1:{free_port()}/0", "k", timeout=0.2)
    assert down.current() is None
    down.bump()  # logged, not raised
    down.close()


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copy(sqlite_template, tmp_path / "p.db")  # a migrated database, as the suites use
    db = Database(settings_for(f"sqlite:///{tmp_path}/p.db", tmp_path))
    yield db
    db.dispose()


def test_only_commits_that_change_rows_readers_see_replace_the_stamp(database: Database) -> None:
    stamp = database.changes.current()
    with database.read() as s:
        s.execute(text("SELECT count(*) FROM threads")).scalar()
    with database.write() as s:
        s.execute(text("UPDATE threads SET title = 'x' WHERE id = -1"))  # matches nothing
        s.execute(
            text(
                "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at) "
                "VALUES ('k', '{}', 'queued', 0, 1, '2026-01-01', '2026-01-01')"
            )
        )  # bookkeeping
    assert database.changes.current() == stamp

    def insert_then_fail() -> None:
        with database.write() as s:
            s.execute(
                text(
                    "INSERT INTO sites (slug, name, allowed_origins, settings, created_at) "
                    "VALUES ('weg', 'Weg', '[]', '{}', '2026-01-01')"
                )
            )
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert database.changes.current() == stamp
    with database.write() as s:
        s.execute(
            text(
                "INSERT INTO sites (slug, name, allowed_origins, settings, created_at) "
                "VALUES ('da', 'Da', '[]', '{}', '2026-01-01')"
            )
        )
    assert database.changes.current() != stamp
