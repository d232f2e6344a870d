"""``parley.db.direct``: statements on the driver's cursor behave as ``session.execute`` would —
same values both ways (dates, JSON), autoflush, SQLAlchemy's errors without the parameters, and
the write unit's change mark — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Integer, Table, bindparam, event, func, insert, literal_column, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from parley.accounts.models import SessionRecord
from parley.clock import FrozenClock
from parley.comments.models import Thread
from parley.db.database import Database
from parley.db.direct import Direct
from support.factories import make_account, make_site, thread_row

THREADS = cast(Table, Thread.__table__)
BY_KEY = select(THREADS).where(THREADS.c.site_id == bindparam("site"), THREADS.c.key == bindparam("key"))
INSERT_THREAD = insert(THREADS).returning(THREADS.c.id)
BUMP = update(THREADS).where(THREADS.c.id == bindparam("b_id")).values(version=THREADS.c.version + 5)


def _thread(site_id: int, key: str, clock: FrozenClock, **extra: Any) -> dict[str, Any]:
    return thread_row(site_id, key, clock.now(), settings={"premoderate": True, "ä": [1, 2]}, **extra)


def test_rows_come_back_as_session_execute_gives_them(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with db.write() as s:
        new_id = Direct(INSERT_THREAD).scalar(s, _thread(site_id, "a", clock))
        assert Direct(BUMP).run(s, {"b_id": new_id}) == 1  # the literal 5 is bound too
        assert Direct(BUMP).run(s, {"b_id": -1}) == 0
    with db.read() as s:
        direct = Direct(BY_KEY).first(s, {"site": site_id, "key": "a"})
        orm = s.execute(BY_KEY, {"site": site_id, "key": "a"}).first()
        assert Direct(BY_KEY).first(s, {"site": site_id, "key": "b"}) is None
    assert orm is not None
    assert direct == tuple(orm)
    assert direct[0] == new_id
    assert direct[THREADS.c.keys().index("version")] == 5
    assert direct[THREADS.c.keys().index("settings")] == {"premoderate": True, "ä": [1, 2]}
    assert direct[THREADS.c.keys().index("closes_at")] == clock.now() + timedelta(days=3)


def test_pending_orm_changes_are_flushed_first(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with db.write() as s:
        s.add(Thread(site_id=site_id, key="pending", created_at=clock.now()))
        found = Direct(BY_KEY).first(s, {"site": site_id, "key": "pending"})
    assert found is not None


def test_driver_errors_are_sqlalchemys_without_the_parameters(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with db.write() as s:
        Direct(INSERT_THREAD).scalar(s, _thread(site_id, "doppelt", clock))
    with pytest.raises(IntegrityError) as raised, db.write() as s:
        Direct(INSERT_THREAD).scalar(s, _thread(site_id, "doppelt", clock, title="geheimer Titel"))
    assert "geheimer" not in str(raised.value)
    with db.read() as s:  # the failed unit took nothing with it
        titles = s.execute(select(THREADS.c.title).where(THREADS.c.key == "doppelt")).scalars().all()
    assert titles == ["Titel"]


def test_only_statements_that_change_rows_readers_see_move_the_change_stamp(
    db: Database, clock: FrozenClock
) -> None:
    site_id = make_site(db, clock, "direkt")
    account_id = make_account(db, clock)
    stamp = db.changes.snapshot()
    with db.write() as s:
        Direct(BUMP).run(s, {"b_id": -1})  # matches nothing
        Direct(BY_KEY).rows(s, {"site": site_id, "key": "a"})  # a read
        Direct(insert(cast(Table, SessionRecord.__table__))).run(  # bookkeeping no reader sees
            s,
            {
                "token_hash": "h" * 64,
                "account_id": account_id,
                "csrf_token": "c",
                "created_at": clock.now(),
                "expires_at": clock.now(),
                "last_seen_at": clock.now(),
            },
        )
    assert db.changes.snapshot() == stamp
    with db.write() as s:
        Direct(INSERT_THREAD).scalar(s, _thread(site_id, "neu", clock))
    assert db.changes.snapshot() != stamp


def test_statements_it_cannot_run_as_asked_are_refused(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    expanding = select(THREADS.c.id).where(THREADS.c.key.in_(bindparam("keys", expanding=True)))
    with db.write() as s:
        with pytest.raises(TypeError, match="expanding"):
            Direct(expanding).rows(s, {"keys": ["a"]})
        with pytest.raises(TypeError, match="needs a value"):  # a column default is not filled in
            Direct(INSERT_THREAD).scalar(s, {"site_id": site_id, "key": "k"} | {"created_at": clock.now()})


def test_engine_listeners_see_the_statements(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    seen: list[tuple[str, str]] = []
    engine = db.write_engine
    before = lambda conn, cursor, sql, *a: seen.append(("before", sql.split()[0]))  # noqa: E731
    after = lambda conn, cursor, sql, *a: seen.append(("after", sql.split()[0]))  # noqa: E731
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with db.write() as s:
            Direct(BY_KEY).rows(s, {"site": site_id, "key": "a"})
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    assert ("before", "SELECT") in seen
    assert seen.index(("before", "SELECT")) + 1 == seen.index(("after", "SELECT"))


def test_statements_run_in_the_sessions_current_transaction(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with Session(db.engine) as s:
        for key in ("weg", "auch-weg"):  # each in a transaction of its own, each taken back
            Direct(INSERT_THREAD).scalar(s, _thread(site_id, key, clock))
            s.rollback()
        with db.read() as other:
            assert Direct(BY_KEY).first(other, {"site": site_id, "key": "weg"}) is None
            assert Direct(BY_KEY).first(other, {"site": site_id, "key": "auch-weg"}) is None
        Direct(INSERT_THREAD).scalar(s, _thread(site_id, "da", clock))
        s.commit()
        with db.read() as other:
            assert Direct(BY_KEY).first(other, {"site": site_id, "key": "da"}) is not None
        assert Direct(BUMP).run(s, {"b_id": -1}) == 0  # and again after the commit


def test_savepoints_run_on_the_driver_and_take_back_only_their_own_work(
    db: Database, clock: FrozenClock
) -> None:
    site_id = make_site(db, clock, "direkt")
    engine = db.write_engine
    statements: list[str] = []
    events: list[str] = []

    def before(conn: Any, cursor: Any, sql: str, *a: Any) -> None:
        statements.append(sql.split()[0].upper())

    listeners = [
        ("before_cursor_execute", before),
        ("savepoint", lambda conn, name: events.append("savepoint")),
        ("rollback_savepoint", lambda conn, name, context: events.append("rollback")),
        ("release_savepoint", lambda conn, name, context: events.append("release")),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        with db.write() as s:
            Direct(INSERT_THREAD).scalar(s, _thread(site_id, "aussen", clock))
            refused = False
            try:
                with s.begin_nested():
                    Direct(INSERT_THREAD).scalar(s, _thread(site_id, "innen", clock))
                    Direct(INSERT_THREAD).scalar(s, _thread(site_id, "innen", clock))  # the same key
            except IntegrityError:
                refused = True
            with s.begin_nested():
                Direct(INSERT_THREAD).scalar(s, _thread(site_id, "bleibt", clock))
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
    assert refused
    assert "SAVEPOINT" not in statements  # not through SQLAlchemy's execution path
    assert "RELEASE" not in statements
    assert events.count("savepoint") == 2
    assert events.count("rollback") == 1
    assert events.count("release") == 1
    with db.read() as s:
        keys = ("aussen", "innen", "bleibt")
        kept = {k for k in keys if Direct(BY_KEY).first(s, {"site": site_id, "key": k})}
    assert kept == {"aussen", "bleibt"}


def test_a_savepoint_error_is_sqlalchemys(db: Database) -> None:
    with db.write_engine.connect() as conn, conn.begin():
        with pytest.raises(DBAPIError) as caught:
            db.write_engine.dialect.do_release_savepoint(conn, "nie_geoeffnet")
        assert "nie_geoeffnet" in str(caught.value.statement)


def test_a_percent_sign_and_a_parameter_used_twice_come_through(db: Database) -> None:
    """On PostgreSQL the statement goes out with its own ``$n`` placeholders (no parsing by
    psycopg): a literal ``%`` stays one, a parameter named twice is one value."""
    n = bindparam("n", type_=Integer)
    statement = select(literal_column("'100%'"), n + n, literal_column("'%%'"))
    with db.read() as s:
        assert Direct(statement).first(s, {"n": 21}) == ("100%", 42, "%%")


SITE_THREADS = select(THREADS).where(THREADS.c.site_id == bindparam("in_site")).order_by(THREADS.c.key)
NO_THREADS = select(THREADS.c.id, THREADS.c.closes_at).where(THREADS.c.key == bindparam("none"))
COUNT = select(func.count().label("n"), literal_column("'ä'").label("x")).where(
    THREADS.c.site_id == bindparam("c_site")
)


def test_reads_along_another_come_back_as_each_alone_gives_them(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with db.write() as s:
        for key, extra in (("b", {}), ("a", {"last_comment_at": clock.now()}), ("c", {})):
            Direct(insert(THREADS)).run(s, _thread(site_id, key, clock, **extra))
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    along = [
        (Direct(SITE_THREADS), {"in_site": site_id}),
        (Direct(NO_THREADS), {"none": "nichts"}),
        (Direct(COUNT), {"c_site": site_id}),
    ]
    with db.read() as s:
        first, rows = Direct(BY_KEY).first_with(s, {"site": site_id, "key": "a"}, along)
        alone = [Direct(BY_KEY).first(s, {"site": site_id, "key": "a"})] + [r.rows(s, v) for r, v in along]
    assert [first, *rows] == alone
    assert [row[THREADS.c.keys().index("key")] for row in rows[0]] == ["a", "b", "c"]
    assert rows[0][0][THREADS.c.keys().index("settings")] == {"premoderate": True, "ä": [1, 2]}  # JSON
    assert rows[0][0][THREADS.c.keys().index("closes_at")] == clock.now() + timedelta(days=3)  # UTC
    assert rows[0][0][THREADS.c.keys().index("last_comment_at")] == clock.now()
    assert rows[0][1][THREADS.c.keys().index("last_comment_at")] is None
    assert rows[1] == []
    assert rows[2] == [(3, "ä")]
    # PostgreSQL: one statement where SQLite runs four
    assert len(statements) == (4 if db.is_sqlite else 1) + 4


def test_reads_along_a_read_without_a_row_still_come_back(db: Database, clock: FrozenClock) -> None:
    site_id = make_site(db, clock, "direkt")
    with db.write() as s:
        Direct(insert(THREADS)).run(s, _thread(site_id, "a", clock))
    with db.read() as s:
        first, rows = Direct(BY_KEY).first_with(
            s, {"site": site_id, "key": "fehlt"}, [(Direct(COUNT), {"c_site": site_id})]
        )
    assert first is None
    assert rows == [[(1, "ä")]]


def test_reads_along_must_name_their_parameters_apart(db: Database, clock: FrozenClock) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite runs the reads one after another: nothing to combine")
    site_id = make_site(db, clock, "direkt")
    with db.read() as s, pytest.raises(TypeError, match="a parameter name two combined reads share"):
        Direct(BY_KEY).first_with(s, {"site": site_id, "key": "a"}, [(Direct(BY_KEY), {})])
