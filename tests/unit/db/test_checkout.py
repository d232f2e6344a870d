"""A pooled PostgreSQL connection is checked at checkout by a poll of its socket, not a statement:
one the server ended is replaced before a request gets it, a live one costs no round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from parley.config import Settings
from parley.db.checkout import ended
from parley.db.database import Database
from support.servers import PostgresServer


@pytest.fixture
def pg(settings: Settings, pg_server: PostgresServer) -> Iterator[Database]:
    if not settings.sqlalchemy_url.startswith("postgresql"):
        pytest.skip("the pool's checkout check is PostgreSQL's")
    database = Database(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    yield database
    database.dispose()


def _backend(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(server: PostgresServer, pid: int) -> None:
    server.psql(f"SELECT pg_terminate_backend({pid})")


def _wait_until_ended(db: Database) -> None:
    """The server's message reaches the idle socket a moment after pg_terminate_backend returns."""
    raw: Any = db.engine.pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]  # the one pooled
    deadline = time.monotonic() + 5
    while not ended(raw):
        assert time.monotonic() < deadline, "the terminated connection never looked ended"
        time.sleep(0.01)


def test_a_connection_the_server_ended_is_replaced_before_a_request_gets_it(
    pg: Database, pg_server: PostgresServer
) -> None:
    first = _backend(pg)
    _terminate(pg_server, first)
    _wait_until_ended(pg)
    second = _backend(pg)  # no error: the pool replaced the connection at checkout
    assert second != first
    assert _backend(pg) == second  # and keeps the new one


def test_a_live_connection_is_not_pinged(pg: Database, tmp_path: Path) -> None:
    _backend(pg)
    raw: Any = pg.engine.pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        raw.pgconn.trace(out.fileno())  # libpq's own log of the protocol's messages
        try:
            with pg.read() as s:
                assert s.execute(text("SELECT 41 + 1")).scalar_one() == 42
        finally:
            raw.pgconn.untrace()
    # a line per message: [timestamp,] direction, length, type, contents (tab-separated)
    sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in f"\t{line}"]
    queries = [f[-1] for f in sent if f[f.index("F") + 2] in ("Query", "Parse")]
    # the transaction's BEGIN, the statement and the pool's ROLLBACK: no ping before them
    assert [q.strip(' "') for q in queries] == ["BEGIN", "SELECT 41 + 1", "ROLLBACK"], sent


def test_an_idle_connection_is_not_ended_one_in_a_transaction_is(pg: Database) -> None:
    with pg.engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        assert not ended(raw)
        conn.execute(text("SELECT 1"))  # opens the transaction
        assert ended(raw)  # never handed out so: the pool's reset would have rolled it back
        conn.rollback()
        assert not ended(raw)
