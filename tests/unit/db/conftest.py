"""The database of the ``parley.db`` unit tests: migrated, on each backend chosen with ``--db``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from parley.config import Settings
from parley.db.database import Database
from support.servers import PostgresServer


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def pg(settings: Settings, pg_server: PostgresServer) -> Iterator[Database]:
    """A PostgreSQL database whose pool holds one connection (skipped on SQLite)."""
    if not settings.sqlalchemy_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connection handling")
    database = Database(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    yield database
    database.dispose()


def pooled(db: Database) -> Any:
    """The psycopg connection in ``pg``'s pool (check one out and in first)."""
    return db.engine.pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]


@contextmanager
def queries_sent(db: Database, tmp_path: Path) -> Iterator[list[str]]:
    """The text of every query the pooled connection sends inside the block, in order, from
    libpq's own trace of the protocol (filled when the block ends)."""
    raw = pooled(db)
    trace = tmp_path / "libpq.trace"
    found: list[str] = []
    with trace.open("w") as out:
        raw.pgconn.trace(out.fileno())
        try:
            yield found
        finally:
            raw.pgconn.untrace()
    # a line per message: [timestamp,] direction, length, type, contents (tab-separated)
    sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in f"\t{line}"]
    found += [f[-1].strip(' "') for f in sent if f[f.index("F") + 2] in ("Query", "Parse")]
