"""``Direct.defer``: on PostgreSQL writes nobody reads wait on the connection and go out as one
statement before anything that may depend on them; on SQLite they run at once. Either way the
unit of work ends with the same rows."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.clock import FrozenClock
from parley.comments.models import Thread
from parley.db.database import Database
from parley.db.direct import Direct
from parley.sites.models import Site
from support.factories import make_account, make_site, thread_row

THREADS = cast(Table, Thread.__table__)
ACCOUNTS = cast(Table, Account.__table__)
ADD = Direct(insert(THREADS).inline())
BUMP = Direct(
    update(THREADS).where(THREADS.c.key == bindparam("b_key")).values(version=THREADS.c.version + 5)
)
VERSION = Direct(select(THREADS.c.version).where(THREADS.c.key == bindparam("key")))
LOGIN = Direct(
    update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id")).values(last_login_at=bindparam("b_now"))
)
SITES = cast(Table, Site.__table__)
SITE_IDS = Direct(select(SITES.c.id).where(SITES.c.id == bindparam("id")))


class Executions:
    """The statements the engine's listeners see, with the cursor each went out on."""

    def __init__(self, db: Database) -> None:
        self.engine = db.write_engine
        self.seen: list[tuple[Any, str]] = []  # the cursors are kept: no id is reused

    def __enter__(self) -> Executions:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        self.seen.append((cursor, " ".join(sql.split()[:3]).upper()))

    def cursors_of(self, prefix: str) -> list[Any]:
        return [c for c, sql in self.seen if sql.startswith(prefix)]


def _version(db: Database, key: str) -> int | None:
    with db.read() as s:
        return cast(int | None, VERSION.scalar(s, {"key": key}))


def test_deferred_writes_go_out_together_before_a_read_of_their_tables(
    db: Database, clock: FrozenClock
) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    account_id = make_account(db, clock)
    with Executions(db) as executions, db.write() as s:
        ADD.defer(s, thread_row(site_id, "neu-1", clock.now()))
        ADD.defer(s, thread_row(site_id, "neu-2", clock.now()))  # a second INSERT into the same table joins
        LOGIN.defer(s, {"b_id": account_id, "b_now": clock.now()})
        SITE_IDS.rows(s, {"id": site_id})  # a read of a table they do not write need not wait
        assert VERSION.scalar(s, {"key": "neu-2"}) == 0  # this one does: they went out first
    writes = executions.cursors_of("INSERT INTO THREADS") + executions.cursors_of("UPDATE ACCOUNTS SET")
    assert len(writes) == 3
    order = [sql for _, sql in executions.seen][:4]
    if db.is_sqlite:  # no data-modifying WITH: each ran at once, in order
        assert len({id(c) for c in writes}) == 3
        assert order == ["INSERT INTO THREADS"] * 2 + ["UPDATE ACCOUNTS SET", "SELECT SITES.ID FROM"]
    else:  # one statement, after the read of sites
        assert len({id(c) for c in writes}) == 1
        assert order == ["SELECT SITES.ID FROM"] + ["INSERT INTO THREADS"] * 2 + ["UPDATE ACCOUNTS SET"]
    with db.read() as s:
        assert s.get(Account, account_id).last_login_at == clock.now()  # type: ignore[union-attr]


def test_a_write_that_reads_or_writes_a_batch_table_sends_the_batch(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    with Executions(db) as executions, db.write() as s:
        ADD.defer(s, thread_row(site_id, "neu", clock.now()))
        BUMP.defer(s, {"b_key": "neu"})  # beside the INSERT it would not see the new row
    assert _version(db, "neu") == 5
    cursors = executions.cursors_of("INSERT INTO THREADS") + executions.cursors_of("UPDATE THREADS SET")
    assert len({id(c) for c in cursors}) == 2


@pytest.mark.parametrize("how", ["commit", "orm query", "savepoint"])
def test_deferred_writes_go_out_before_the_commit_a_query_and_a_savepoint(
    db: Database, clock: FrozenClock, how: str
) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    with db.write() as s:
        ADD.defer(s, thread_row(site_id, "da", clock.now()))
        if how == "orm query":
            assert s.scalars(select(Thread.key).where(Thread.key == "da")).all() == ["da"]
        elif how == "savepoint":
            with s.begin_nested():
                BUMP.defer(s, {"b_key": "da"})
            assert VERSION.scalar(s, {"key": "da"}) == 5
    assert _version(db, "da") == (5 if how == "savepoint" else 0)


def test_a_second_write_to_a_tables_rows_sends_the_first(db: Database, clock: FrozenClock) -> None:
    """Two parts of one statement would update the same row once; each update counts here."""
    site_id = make_site(db, clock, "aufgeschoben")
    with db.write() as s:
        ADD.defer(s, thread_row(site_id, "zaehler", clock.now()))
        BUMP.defer(s, {"b_key": "zaehler"})  # would not see the row of an INSERT beside it
        BUMP.defer(s, {"b_key": "zaehler"})
    assert _version(db, "zaehler") == 10


def test_a_rollback_takes_the_deferred_writes_with_it(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    with db.write() as s:
        ADD.defer(s, thread_row(site_id, "bleibt", clock.now()))
        nested = s.begin_nested()
        BUMP.defer(s, {"b_key": "bleibt"})
        ADD.defer(s, thread_row(site_id, "innen", clock.now()))
        nested.rollback()
    with Session(db.write_engine) as s:
        ADD.defer(s, thread_row(site_id, "weg", clock.now()))
        s.rollback()
    assert _version(db, "bleibt") == 0  # before the savepoint: kept; inside it: taken back
    assert _version(db, "innen") is None
    assert _version(db, "weg") is None
    with Session(db.write_engine) as s:  # the connection comes back from the pool with nothing held
        ADD.defer(s, thread_row(site_id, "danach", clock.now()))
        s.commit()
    assert _version(db, "danach") == 0


def test_a_deferred_writes_error_comes_at_the_commit_and_nothing_is_stored(
    db: Database, clock: FrozenClock
) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    with db.write() as s:
        ADD.defer(s, thread_row(site_id, "doppelt", clock.now()))

    def write_both() -> None:
        with db.write() as s:
            ADD.defer(s, thread_row(site_id, "davor", clock.now()))
            ADD.defer(s, thread_row(site_id, "doppelt", clock.now(), title="geheimer Titel"))

    with pytest.raises(IntegrityError) as raised:
        write_both()
    assert "geheimer" not in str(raised.value)
    assert _version(db, "davor") is None
    with db.read() as s:
        titles = s.scalars(select(Thread.title).where(Thread.key == "doppelt")).all()
    assert titles == ["Titel"]


def test_listeners_see_each_deferred_write_with_its_own_parameters(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "aufgeschoben")
    seen: list[tuple[str, Any]] = []

    def after(conn: Any, cursor: Any, sql: str, params: Any, *args: Any) -> None:
        if sql.startswith("INSERT INTO threads"):
            seen.append((sql, params))

    event.listen(db.write_engine, "after_cursor_execute", after)
    try:
        with db.write() as s:
            for key in ("eins", "zwei"):
                ADD.defer(s, thread_row(site_id, key, clock.now()))
    finally:
        event.remove(db.write_engine, "after_cursor_execute", after)
    assert len(seen) == 2
    assert not any(sql.startswith("WITH") for sql, _ in seen)
    values = [list(p.values()) if isinstance(p, dict) else list(p) for _, p in seen]
    assert "eins" in values[0]
    assert "zwei" not in values[0]
    assert "zwei" in values[1]
    assert "eins" not in values[1]
