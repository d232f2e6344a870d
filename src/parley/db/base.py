"""The declarative base every domain's ``models.py`` builds on.

Constraint names follow one convention so Alembic migrations are stable on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, MetaData, Sequence, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import Function

from parley.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere
JSONType = JSON().with_variant(JSONB(), "postgresql")

# 64-bit ids on PostgreSQL; SQLite only makes INTEGER PRIMARY KEY a rowid alias, so keep it INTEGER there
BigId = BigInteger().with_variant(Integer(), "sqlite")


def next_id(table: Table) -> Function[int]:
    """PostgreSQL: the next value of ``table``'s id sequence, the one its INSERT would draw (a
    ``BIGSERIAL`` column's sequence is ``<table>_id_seq``; tests/unit/db/test_sequences.py checks
    the server agrees). The name goes into the statement as a constant, which the server resolves
    when it plans the statement; ``pg_get_serial_sequence`` looked the sequence up in the catalog at
    every execution (~12 µs each, three per guest's POST)."""
    return Sequence(f"{table.name}_id_seq").next_value()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


def import_all_models() -> None:
    """Import every domain's models so ``Base.metadata`` is complete (Alembic, tests)."""
    import importlib
    import pkgutil

    import parley

    for mod in pkgutil.walk_packages(parley.__path__, "parley."):
        if mod.name.endswith(".models"):
            importlib.import_module(mod.name)
