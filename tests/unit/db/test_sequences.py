"""``parley.db.base.next_id`` names each table's id sequence as the migrated schema has it."""

from __future__ import annotations

from sqlalchemy import Integer, select, text

import parley.app  # noqa: F401  (every domain's models on Base.metadata)
from parley.db.base import Base, next_id
from parley.db.database import Database


def _tables_with_serial_ids() -> list[str]:
    return sorted(
        table.name
        for table in Base.metadata.tables.values()
        if "id" in table.c
        and table.c.id.primary_key
        and table.c.id.autoincrement in (True, "auto")
        and isinstance(table.c.id.type, Integer)
        and len(table.primary_key.columns) == 1
    )


def test_every_serial_id_draws_from_the_sequence_its_insert_uses(pg: Database) -> None:
    names = _tables_with_serial_ids()
    assert {"comments", "moderation_decisions", "accounts"} <= set(names)
    with pg.engine.connect() as conn:
        for name in names:
            server = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name})
            assert server == f"public.{name}_id_seq", name
            drawn = conn.scalar(select(next_id(Base.metadata.tables[name])))
            assert conn.scalar(text("SELECT currval(CAST(:s AS regclass))"), {"s": server}) == drawn
