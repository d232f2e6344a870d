"""copy index: moderation_copy_bands without its own foreign key to sites

A band belongs to its signature (foreign key, ``ON DELETE CASCADE``), and the signature to its
comment and site: deleting a site or a comment removes the bands through the signature. The
band's own foreign key to ``sites`` checked, for each of a POST's 16 bands, the site's row and
took a ``KEY SHARE`` lock on it — the one row every concurrent POST of a site locks, 16 times each.
PostgreSQL's execution of a POST's merged writes: 476 µs with it, 355 µs without
(``pg_stat_statements`` under an HTTP POST flood, 16 connections).

Revision ID: 7d3e5b1c9a20
Revises: ac2fb2038c2c
Create Date: 2026-11-27 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "7d3e5b1c9a20"
down_revision: str | Sequence[str] | None = "ac2fb2038c2c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_copy_bands", schema=None) as batch_op:
        batch_op.drop_constraint("fk_moderation_copy_bands_site_id_sites", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("moderation_copy_bands", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_moderation_copy_bands_site_id_sites"),
            "sites",
            ["site_id"],
            ["id"],
            ondelete="CASCADE",
        )
