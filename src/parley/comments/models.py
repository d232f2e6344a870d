"""ORM models of the comments domain.

Threading uses a materialized path: each comment's ``path`` is its ancestors' ids and its own, each
as a fixed-width base-36 segment, so a subtree is one index range scan ``(root_id, path)`` and tree
order is ``ORDER BY path``. ``root_id`` is the top-level ancestor (itself for a top-level comment).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class CommentStatus(StrEnum):
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"
    DELETED = "deleted"


class ThreadStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Thread(Base):
    """A story's comment section, keyed by the publisher's article id or URL."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(512))
    title: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str] = mapped_column(String(2048), default="")
    status: Mapped[str] = mapped_column(String(16), default=ThreadStatus.OPEN.value)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    last_comment_at: Mapped[datetime | None] = mapped_column(default=None)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # top-level pages, one index per sort order (status is a residual filter: nearly all match)
        Index("ix_comments_top_created", "thread_id", "depth", "created_at", "id"),
        Index("ix_comments_top_score", "thread_id", "depth", "score", "id"),
        Index("ix_comments_top_wilson", "thread_id", "depth", "wilson", "id"),
        # replies of top-level comments and subtree pages, in tree order
        Index("ix_comments_root_path", "root_id", "path"),
        # whole thread oldest first (view=flat); also per-thread moderation queues
        Index("ix_comments_thread_status_created", "thread_id", "status", "created_at", "id"),
        # site-wide queues (held, recently published)
        Index("ix_comments_site_status_created", "site_id", "status", "created_at"),
        # an author's history and their own pending comments in a thread
        Index("ix_comments_author_thread", "author_id", "thread_id", "status"),
        Index("ix_comments_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None, index=True
    )
    root_id: Mapped[int | None] = mapped_column(BigId, default=None)
    depth: Mapped[int] = mapped_column(SmallInteger, default=0)
    path: Mapped[str] = mapped_column(String(1024), default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.PUBLISHED.value)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    up: Mapped[int] = mapped_column(Integer, default=0)
    down: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int] = mapped_column(Integer, default=0)
    wilson: Mapped[float] = mapped_column(Float, default=0.0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    descendant_count: Mapped[int] = mapped_column(Integer, default=0)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CommentRevision(Base):
    """Edit history: the body as it was before each edit."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]


class Vote(Base):
    """One vote per account per comment; the unique constraint makes vote stuffing impossible."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("comment_id", "account_id"), Index(None, "account_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportReason(StrEnum):
    SPAM = "spam"
    INSULT = "insult"
    HATE = "hate"
    DISINFORMATION = "disinformation"
    IMPERSONATION = "impersonation"
    ILLEGAL = "illegal"
    PRIVACY = "privacy"
    OTHER = "other"


class Report(Base):
    """A reader's notice about a comment (DSA Art. 16 notice fields)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index(None, "comment_id", "reporter_id"),
        Index(None, "site_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    reporter_contact: Mapped[str | None] = mapped_column(String(320), default=None)
    good_faith: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    ip_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class IdempotencyRecord(Base):
    """The stored answer to a request sent with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"), Index(None, "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
