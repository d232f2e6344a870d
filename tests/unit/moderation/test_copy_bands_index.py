"""Deleting a comment's copy-index buckets by comment id (every POST does, before it stores them)
reads an index, not the whole bucket table, on SQLite and PostgreSQL: the table holds 16 rows per
published comment, so a scan made every POST slower as the site grew (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, text

from parley.config import Settings
from parley.db.database import Database
from parley.moderation.models import CopyBand


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


def test_buckets_are_deleted_through_an_index(db: Database) -> None:
    stmt = delete(CopyBand).where(CopyBand.comment_id == 12345)
    with db.write() as s:
        conn = s.connection()
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "ix_moderation_copy_bands_comment_id" in plan, plan
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # tiny table: ask for the index
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql))
            assert "ix_moderation_copy_bands_comment_id" in plan, plan
        s.rollback()
