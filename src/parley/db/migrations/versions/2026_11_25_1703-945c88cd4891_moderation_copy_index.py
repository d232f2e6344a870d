"""moderation copy index: MinHash signatures and LSH buckets of published comments

Revision ID: 945c88cd4891
Revises: 94a4dc985613
Create Date: 2026-11-25 17:03:49.895633
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import parley.db.types

revision: str = "945c88cd4891"
down_revision: str | Sequence[str] | None = "94a4dc985613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moderation_copy_signatures",
        sa.Column("comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_key", sa.String(length=160), nullable=False),
        sa.Column("published_at", parley.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("wave_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_moderation_copy_signatures_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_moderation_copy_signatures_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_moderation_copy_signatures")),
    )
    with op.batch_alter_table("moderation_copy_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderation_copy_signatures_published_at"), ["published_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_copy_signatures_site_id_wave_id"), ["site_id", "wave_id"], unique=False
        )

    op.create_table(
        "moderation_copy_bands",
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["moderation_copy_signatures.comment_id"],
            name=op.f("fk_moderation_copy_bands_comment_id_moderation_copy_signatures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_moderation_copy_bands_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "bucket", "comment_id", name=op.f("pk_moderation_copy_bands")),
    )


def downgrade() -> None:
    op.drop_table("moderation_copy_bands")
    with op.batch_alter_table("moderation_copy_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_copy_signatures_site_id_wave_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_copy_signatures_published_at"))

    op.drop_table("moderation_copy_signatures")
