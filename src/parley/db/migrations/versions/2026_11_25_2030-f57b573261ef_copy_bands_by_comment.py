"""copy index: an index on moderation_copy_bands.comment_id

Every POST replaces the new comment's LSH buckets (``SqlCopyIndex.add`` deletes them by comment id
first, as an edit must), and pruning and erasure delete buckets by comment id too. The primary key
starts with (site, bucket), so those deletes read the whole table (16 rows per published comment),
and so does the cascade from a deleted signature: 16 ms of CPU per delete on SQLite with 11,700
comments (186,000 rows), growing with the site; 0.02 ms with this index.

Revision ID: f57b573261ef
Revises: 2c431cbd62b5
Create Date: 2026-11-25 20:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f57b573261ef"
down_revision: str | Sequence[str] | None = "2c431cbd62b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_copy_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_moderation_copy_bands_comment_id"), ["comment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("moderation_copy_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_copy_bands_comment_id"))
