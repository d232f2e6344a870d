"""PostgreSQL's units of work open their transaction at the first statement that needs one
(``db.direct.begin_at_first_write``, decision 0013): reads alone send no ``BEGIN``; a unit whose
writes are one deferred statement sends neither ``BEGIN`` nor ``COMMIT``; every other unit is one
transaction as before — all of its writes or none, its row locks held to its end."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import psycopg
import pytest
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from parley.clock import FrozenClock
from parley.comments.models import Thread
from parley.db.database import Database
from parley.db.direct import Direct, needs_transaction
from support.factories import make_site, thread_row
from support.servers import PostgresServer

from .conftest import queries_sent
from .test_deferred import ADD, BUMP, VERSION, _version

THREADS = cast(Table, Thread.__table__)
TITLE = Direct(update(THREADS).where(THREADS.c.key == bindparam("b_key")).values(title=bindparam("b_title")))


def test_which_statements_need_the_transaction() -> None:
    assert not needs_transaction("SELECT threads.id FROM threads WHERE threads.key = $1")
    assert not needs_transaction("  select 1")
    for sql in (
        "INSERT INTO threads (key) VALUES ($1)",
        "WITH p0 AS (INSERT INTO sessions VALUES ($1)) UPDATE threads SET version = 1",
        "SAVEPOINT sa_savepoint_1",
        "SELECT threads.id FROM threads WHERE threads.id = $1 FOR UPDATE",
        "SELECT jobs.id FROM jobs FOR UPDATE SKIP LOCKED",
        "SELECT comments.id FROM comments FOR NO KEY UPDATE",
        "SELECT comments.id FROM comments\nFOR SHARE",
        "SET statement_timeout = 0",
    ):
        assert needs_transaction(sql), sql


@pytest.mark.parametrize(
    ("second", "sent"),
    [
        (False, ["SELECT", "INSERT"]),  # the one write statement at the commit: no BEGIN, no COMMIT
        (True, ["SELECT", "BEGIN", "INSERT", "UPDATE", "COMMIT"]),  # begun before the first write
    ],
)
def test_a_unit_begins_only_when_it_writes_more_than_one_statement(
    pg: Database, clock: FrozenClock, tmp_path: Path, second: bool, sent: list[str]
) -> None:
    site_id = make_site(pg, clock, "spaet")
    with queries_sent(pg, tmp_path) as queries, pg.write() as s:
        assert VERSION.scalar(s, {"key": "neu"}) is None
        ADD.defer(s, thread_row(site_id, "neu", clock.now()))
        if second:
            BUMP.defer(s, {"b_key": "neu"})  # sends the INSERT first: the unit's second write
    assert _version(pg, "neu") == (5 if second else 0)
    assert [q.split()[0] for q in queries] == sent


@pytest.mark.parametrize("first", ["deferred, sent early", "run now", "orm flush"])
def test_a_unit_that_fails_after_its_first_write_stores_nothing(
    db: Database, clock: FrozenClock, first: str
) -> None:
    site_id = make_site(db, clock, "spaet")
    with db.write() as s:
        ADD.run(s, thread_row(site_id, "da", clock.now()))

    def unit() -> None:
        with db.write() as s:
            assert VERSION.scalar(s, {"key": "da"}) == 0  # a read first: no transaction yet
            if first == "deferred, sent early":
                BUMP.defer(s, {"b_key": "da"})
                assert VERSION.scalar(s, {"key": "da"}) == 5  # the read sent the write
            elif first == "run now":
                BUMP.run(s, {"b_key": "da"})
            else:
                s.add(Thread(site_id=site_id, key="orm", title="T", url="", created_at=clock.now()))
                s.flush()
            ADD.run(s, thread_row(site_id, "da", clock.now()))  # the same key again: refused

    with pytest.raises(IntegrityError):
        unit()
    assert _version(db, "da") == 0  # the first write went with the second
    assert _version(db, "orm") is None


def test_a_failing_single_statement_at_the_commit_stores_nothing(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "spaet")
    with db.write() as s:
        ADD.run(s, thread_row(site_id, "doppelt", clock.now()))

    def unit() -> None:
        with db.write() as s:
            ADD.defer(s, thread_row(site_id, "neu", clock.now()))
            ADD.defer(s, thread_row(site_id, "doppelt", clock.now()))  # the same statement fails

    with pytest.raises(IntegrityError):
        unit()
    assert _version(db, "neu") is None


def test_a_row_locked_for_update_stays_locked_to_the_units_end(
    pg: Database, clock: FrozenClock, pg_server: PostgresServer
) -> None:
    site_id = make_site(pg, clock, "spaet")
    with pg.write() as s:
        ADD.run(s, thread_row(site_id, "gesperrt", clock.now()))
    other = psycopg.connect(str(pg.engine.url.set(drivername="postgresql").render_as_string(False)))
    try:
        with pg.write() as s:
            s.execute(select(Thread.id).where(Thread.key == "gesperrt").with_for_update())
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM threads WHERE key = 'gesperrt' FOR UPDATE NOWAIT")
            other.rollback()
            TITLE.run(s, {"b_key": "gesperrt", "b_title": "Neu"})
        other.execute("SELECT id FROM threads WHERE key = 'gesperrt' FOR UPDATE NOWAIT")  # free now
        other.rollback()
    finally:
        other.close()


def test_a_streamed_read_runs_in_a_transaction(db: Database, clock: FrozenClock) -> None:
    """A server-side cursor (``yield_per``) exists only inside a transaction."""
    site_id = make_site(db, clock, "spaet")
    with db.write() as s:
        for i in range(5):
            ADD.defer(s, thread_row(site_id, f"t{i}", clock.now()))
    with db.read() as s:
        streamed = select(Thread.key).order_by(Thread.key).execution_options(yield_per=2)
        keys = [row.key for row in s.execute(streamed)]
    assert keys == [f"t{i}" for i in range(5)]
