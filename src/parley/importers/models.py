"""The import map: which source object became which Parley row.

One row per imported thread, comment and author, keyed by ``(site, source, kind, ref)``. It is what
makes an import idempotent (a second run finds every ref and adds nothing) and resumable (a run
stopped after batch 40 finds batches 1–40 and goes on), without adding importer columns to the
comments domain's tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class ImportRef(Base):
    __tablename__ = "import_refs"
    __table_args__ = (
        UniqueConstraint("site_id", "source", "kind", "ref"),
        Index(None, "kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    """``wordpress``, ``disqus``, ``isso`` or ``parley`` (our own JSON export)."""
    kind: Mapped[str] = mapped_column(String(16))
    """``thread``, ``comment`` or ``author``."""
    ref: Mapped[str] = mapped_column(String(512))
    """The source's id (post id, comment id, Disqus id, an author key)."""
    target_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime]
