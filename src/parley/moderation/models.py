"""ORM models of the moderation domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class ModerationDecision(Base):
    """One decision on one comment: the pipeline's (actor ``system``) or a moderator's.

    ``reasons`` keeps every phase's findings with evidence, so the author and moderators can be told
    why, long after the fact. ``status_before``/``status_after`` make the history replayable.
    """

    __tablename__ = "moderation_decisions"
    __table_args__ = (
        Index(None, "comment_id", "id"),
        Index(None, "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(16))
    status_before: Mapped[str | None] = mapped_column(String(16), default=None)
    status_after: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor_kind: Mapped[str] = mapped_column(String(16), default="system")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    reason_code: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    automated: Mapped[bool] = mapped_column(Boolean, default=True)
    trigger: Mapped[str] = mapped_column(String(16), default="create")
    statement_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """Unguessable id of the public statement of reasons (``/statements/<token>``)."""
    created_at: Mapped[datetime]


class CopySignature(Base):
    """A published comment's MinHash signature, for copy-spam detection across restarts and instances.

    One row per published comment (an edit replaces it). ``wave_id`` is the id of the first comment
    of its copy wave (its own id when it copies nothing), so a moderator can act on a wave in one
    query. Rows older than the longest copy window can be deleted; the comment stays.
    """

    __tablename__ = "moderation_copy_signatures"
    __table_args__ = (
        Index(None, "site_id", "wave_id"),
        Index(None, "published_at"),
    )

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    author_key: Mapped[str] = mapped_column(String(160))
    published_at: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    wave_id: Mapped[int] = mapped_column(BigInteger)


class CopyBand(Base):
    """One LSH bucket of one signature: 16 rows per published comment.

    The primary key (site, bucket, comment) is the lookup index: a comment's 16 buckets are 16 index
    probes whatever the number of rows, which keeps copy detection's cost flat as a site grows.
    Bucket keys already carry their band (each band hashes with its own salt). ``comment_id`` has
    its own index: a trigger deletes a signature's buckets by it when the signature goes (an edit, a
    prune, an erasure, its comment's or site's deletion: migration ``4b8e2f6d1c37``).

    No foreign keys: a band goes with its signature by that trigger, and the signature with its
    comment and site by theirs. Checked per row, a key made each of a POST's 16 bands look up and
    lock a row the same statement had just written — the signature's (a third of the POST's writes
    on PostgreSQL), and the site's, which every concurrent POST of the site locks.
    """

    __tablename__ = "moderation_copy_bands"
    __table_args__ = (Index(None, "comment_id"),)

    site_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    comment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
