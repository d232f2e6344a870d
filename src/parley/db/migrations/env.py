"""Alembic environment: runs against the engine of the configured Parley settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from parley.db.base import Base, import_all_models

import_all_models()
target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    url = str(config.attributes.get("sqlalchemy_url") or config.get_main_option("sqlalchemy.url"))
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `parley db upgrade`")
run_migrations_online()
