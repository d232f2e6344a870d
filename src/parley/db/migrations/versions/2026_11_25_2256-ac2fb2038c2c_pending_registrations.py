"""accounts: pending_registrations (security issue 9)

A sign-up waits here for its e-mail confirmation before an account exists, so registration no
longer tells who has an account. Rows expire after 24 h (``expires_at`` indexed for the lazy purge);
the confirmation token is an HMAC over the row and is never stored.

Revision ID: ac2fb2038c2c
Revises: f57b573261ef
Create Date: 2026-11-25 22:56:58.720816
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parley.db.types

revision: str = "ac2fb2038c2c"
down_revision: str | Sequence[str] | None = "f57b573261ef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_registrations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_normalized", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("created_at", parley.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", parley.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_pending_registrations_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_registrations")),
    )
    with op.batch_alter_table("pending_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_registrations_email_normalized"), ["email_normalized"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pending_registrations_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_registrations_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pending_registrations_email_normalized"))

    op.drop_table("pending_registrations")
