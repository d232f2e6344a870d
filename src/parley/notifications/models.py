"""ORM models of notifications: in-widget items and per-account preferences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class NotificationKind(StrEnum):
    REPLY = "reply"  # someone replied to my comment
    DECISION = "decision"  # a moderator (or the pipeline) held or rejected my comment
    APPEAL = "appeal"  # my appeal was decided
    REPORT = "report"  # a comment I reported was decided (DSA Art. 16(5)); written by the workspace


class Notification(Base):
    """One item in a reader's notification list (the widget's badge counts the unread ones).

    ``data`` holds ids and public facts only (comment ids, thread key, a statement URL), never bodies.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "account_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class NotificationSettings(Base):
    """An account's mail preferences. No row: the defaults (no reply mails; decisions yes)."""

    __tablename__ = "notification_settings"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    reply_emails: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_emails: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_emails: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    updated_at: Mapped[datetime]
