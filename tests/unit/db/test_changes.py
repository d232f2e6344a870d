"""The database's change stamp (``parley.db.changes``) and when ``Database.write`` replaces it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.accounts.services import do_create_account
from parley.clock import FrozenClock
from parley.comments.models import Thread
from parley.comments.threads import bump_version
from parley.config import Settings
from parley.db.changes import (
    SLOTS,
    WHOLE,
    ChangeStamp,
    FileStamp,
    LocalStamp,
    RedisStamp,
    marks,
    slots_of,
    stamp_for,
    thread_slot,
)
from parley.db.database import Database, touch_all_threads
from support.apps import settings_for
from support.factories import make_account, make_comments, make_site
from support.servers import RedisServer, free_port

THREAD = thread_slot(7)
OTHER = thread_slot(8)


def check_slots(one: ChangeStamp, two: ChangeStamp) -> None:
    """``one`` and ``two`` share a stamp: a bump of a thread's slot through one is seen through the
    other in that slot only; a bump of the whole database's slot in that slot only."""
    before = two.snapshot()
    assert before is not None
    assert len(before) == (SLOTS + 1) * 8
    assert one.snapshot() == before
    assert two.current((WHOLE, THREAD)) == marks(before, (WHOLE, THREAD))
    one.bump([THREAD])
    after = two.snapshot()
    assert after is not None
    assert marks(after, (WHOLE, OTHER)) == marks(before, (WHOLE, OTHER))
    assert marks(after, (THREAD,)) != marks(before, (THREAD,))
    assert two.current((WHOLE, THREAD)) == marks(after, (WHOLE, THREAD))
    assert two.current((WHOLE, OTHER, THREAD)) == marks(after, (WHOLE, OTHER, THREAD))
    one.bump()
    now = two.current((WHOLE, OTHER))
    assert now is not None
    assert now[:8] != marks(after, (WHOLE,))
    assert now[8:] == marks(after, (OTHER,))


def test_thread_slots() -> None:
    assert {thread_slot(i) for i in range(1, 3 * SLOTS)} == set(range(1, SLOTS + 1))
    assert slots_of([]) == (WHOLE,)
    assert slots_of([8, 7, 7]) == (WHOLE, *sorted({THREAD, OTHER}))


def test_a_file_stamp_is_shared_by_every_mapping_of_the_file(tmp_path: Path) -> None:
    one, two = FileStamp(tmp_path / "s"), FileStamp(tmp_path / "s")
    try:
        check_slots(one, two)
    finally:
        one.close()
        two.close()
    assert one.current((WHOLE,)) is None  # closed: unknown, so nobody trusts it
    assert one.snapshot() is None


def test_a_file_of_one_value_grows_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "old").write_bytes(b"12345678")  # the stamp file of an older Parley
    stamp = FileStamp(tmp_path / "old")
    try:
        assert stamp.current((WHOLE, THREAD)) == b"12345678" + bytes(8)
    finally:
        stamp.close()


def test_local_stamp_and_the_choice_by_database(tmp_path: Path) -> None:
    local = LocalStamp()
    check_slots(local, local)
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
        assert a.snapshot() is None  # never set: unknown, and now set
        check_slots(a, b)
        a.client.delete(a.key)  # Redis emptied: unknown again, then a stamp nobody has seen
        assert b.current((WHOLE, THREAD)) is None
        assert a.snapshot() is not None
    finally:
        a.close()
        b.close()
    down = RedisStamp(f"redis://127.0.0.1:{free_port()}/0", "k", timeout=0.2)
    assert down.snapshot() is None
    assert down.current((WHOLE,)) is None
    down.bump([THREAD])  # logged, not raised
    down.close()


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copy(sqlite_template, tmp_path / "p.db")  # a migrated database, as the suites use
    db = Database(settings_for(f"sqlite:///{tmp_path}/p.db", tmp_path))
    yield db
    db.dispose()


def test_only_commits_that_change_rows_readers_see_replace_the_stamp(database: Database) -> None:
    stamp = database.changes.snapshot()
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
    assert database.changes.snapshot() == stamp

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
    assert database.changes.snapshot() == stamp
    with database.write() as s:
        s.execute(
            text(
                "INSERT INTO sites (slug, name, allowed_origins, settings, created_at) "
                "VALUES ('da', 'Da', '[]', '{}', '2026-01-01')"
            )
        )
    assert database.changes.snapshot() != stamp


@pytest.fixture
def both(settings: Settings) -> Iterator[Database]:
    """A migrated database on each backend (SQLite's units share batches, PostgreSQL's do not)."""
    db = Database(settings)
    yield db
    db.dispose()


@pytest.mark.parametrize("via", ["write", "run_write"])
def test_a_unit_that_names_its_threads_replaces_only_their_slots(
    both: Database, clock: FrozenClock, via: str
) -> None:
    """Also for a unit run by SQLite's writer thread (``run_write``), in its giver's context."""
    db = both
    make_site(db, clock, "test")
    make_comments(db, clock, "eins", 1)
    make_comments(db, clock, "zwei", 1)
    account_id = make_account(db, clock)
    with db.read() as s:
        ids = dict(s.execute(select(Thread.key, Thread.id)).all())
    mine, other = thread_slot(ids["eins"]), thread_slot(ids["zwei"])
    assert mine != other
    watched = (WHOLE, mine, other)

    def after(unit: Callable[[Session], None]) -> tuple[bool, bool, bool]:
        """Which of the whole database's, "eins"'s and "zwei"'s slots the unit replaced."""
        before = db.changes.current(watched)
        assert before is not None
        if via == "run_write":
            db.run_write(unit)
        else:
            with db.write() as s:
                unit(s)
        now = db.changes.current(watched)
        assert now is not None
        return tuple(before[i * 8 : i * 8 + 8] != now[i * 8 : i * 8 + 8] for i in range(3))  # type: ignore[return-value]

    def bump(s: Session) -> None:
        bump_version(s, ids["eins"])

    assert after(bump) == (False, True, False)

    def bump_and_sign_up(s: Session) -> None:
        bump(s)
        do_create_account(s, name="Neu Hier", now=clock.now())

    assert after(bump_and_sign_up) == (False, True, False)  # a new account: no other thread shows it
    assert after(lambda s: s.execute(update(Thread).where(Thread.id == ids["eins"]).values(title="t"))) == (
        True,
        False,
        False,
    )  # a write that names no thread: everybody's
    login = update(Account).where(Account.id == account_id).values(last_login_at=clock.now())
    assert after(lambda s: (bump(s), s.execute(login))) == (False, True, False)  # no reader sees it
    rename = update(Account).where(Account.id == account_id).values(display_name="Neu")
    assert after(lambda s: (bump(s), s.execute(login.values(display_name="Neuer")))) == (True, False, False)
    assert after(lambda s: (bump(s), s.execute(rename))) == (True, False, False)
    assert after(lambda s: (bump(s), touch_all_threads())) == (True, False, False)
    assert after(lambda s: (touch_all_threads(), bump(s))) == (True, False, False)
    assert after(lambda s: touch_all_threads()) == (False, False, False)  # no row changed: nothing to tell
    new_thread = update(Thread).where(Thread.id == -1).values(title="x")  # matches nothing: no change
    assert after(lambda s: (bump(s), s.execute(new_thread))) == (False, True, False)

    def then_fail(s: Session) -> None:
        bump(s)
        raise RuntimeError("rolled back")

    before = db.changes.snapshot()
    with pytest.raises(RuntimeError):
        after(then_fail)
    assert db.changes.snapshot() == before
