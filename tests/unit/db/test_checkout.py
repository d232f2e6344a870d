"""A pooled PostgreSQL connection is checked at checkout by a poll of its socket, not a statement:
one the server ended is replaced before a request gets it, a live one costs no round trip."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from parley.db.checkout import ended
from parley.db.database import Database
from support.servers import PostgresServer

from .conftest import pooled, queries_sent


def _backend(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(server: PostgresServer, pid: int) -> None:
    server.psql(f"SELECT pg_terminate_backend({pid})")


def _wait_until_ended(db: Database) -> None:
    """The server's message reaches the idle socket a moment after pg_terminate_backend returns."""
    raw = pooled(db)
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
    with queries_sent(pg, tmp_path) as queries, pg.read() as s:
        assert s.execute(text("SELECT 41 + 1")).scalar_one() == 42
    # the statement alone: no ping before it (nor BEGIN and ROLLBACK around a read, decision 0013)
    assert queries == ["SELECT 41 + 1"]


def test_an_idle_connection_is_not_ended_one_in_a_transaction_is(pg: Database) -> None:
    with pg.engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        assert not ended(raw)
        conn.begin_nested()  # opens the transaction (a read alone would not: decision 0013)
        assert ended(raw)  # never handed out so: the pool's reset would have rolled it back
        conn.rollback()
        assert not ended(raw)
