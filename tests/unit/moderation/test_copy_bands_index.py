"""The copy index's bucket table holds 16 rows per published comment, so a statement that scans it
makes every POST slower as the site grows (issue 7). Deleting a comment's buckets by comment id
(every POST does, before it stores them) reads an index, and a look-up (every POST's copies phase)
probes its buckets only, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, text

from parley.config import Settings
from parley.db.database import Database
from parley.moderation.models import CopyBand
from parley.moderation.sql import _candidates


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


def _band_scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a PostgreSQL JSON plan that reads the bucket table or its primary key."""
    if "moderation_copy_bands" in (node.get("Relation Name"), node.get("Index Name", "")[3:]):
        yield node
    for child in node.get("Plans", ()):
        yield from _band_scans(child)


def test_the_look_up_probes_its_buckets_only(db: Database) -> None:
    """A copy look-up reads the 16 buckets it asks for, not every bucket of the site, even before
    the database has statistics on the table (a new database; autovacuum analyzes it later)."""
    lookup = _candidates(16)
    rng = random.Random(3)
    values: dict[str, Any] = {f"b{i}": rng.randrange(-(2**62), 2**62) for i in range(16)}
    values |= {"site": 1, "since": datetime(2026, 1, 1, tzinfo=UTC)}
    with db.write() as s:
        conn = s.connection()
        compiled = lookup.statement.compile(dialect=conn.dialect)
        if conn.dialect.name == "sqlite":
            params = tuple(values[name] for name in compiled.positiontup or ())
            steps = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
            plan = [str(row[-1]) for row in steps]
            probes = [step for step in plan if "moderation_copy_bands" in step]
            assert probes, plan
            assert all("(site_id=? AND bucket=?)" in step for step in probes), plan
        else:
            # 400 comments' buckets of one site, as a site's first minutes leave them: no ANALYZE
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # no parent rows
            conn.execute(
                text(
                    "INSERT INTO moderation_copy_signatures "
                    "(comment_id, site_id, author_key, published_at, signature, wave_id) "
                    "SELECT g, 1, 'acct:1', now(), '\\x00', g FROM generate_series(1, 400) g"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO moderation_copy_bands (site_id, bucket, comment_id) "
                    "SELECT 1, (random() * 9e18)::bigint, g / 16 FROM generate_series(16, 6415) g"
                )
            )
            (explained,) = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), values
            ).scalar_one()
            scans = list(_band_scans(explained["Plan"]))
            assert any(scan["Actual Loops"] for scan in scans), explained  # the probes ran
            for scan in scans:  # none of the random buckets is stored: every probe reads nothing
                assert scan["Actual Rows"] == 0, scans
                assert scan.get("Rows Removed by Filter", 0) == 0, scans
                assert scan.get("Rows Removed by Index Recheck", 0) == 0, scans
        s.rollback()
