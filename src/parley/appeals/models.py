"""ORM model of the appeals domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the decision stands
    REVERSED = "reversed"  # the decision was taken back (the comment is published again)


class Appeal(Base):
    """An author's complaint against one decision: a comment decision or a sanction.

    The unique ``decision_id`` / ``sanction_id`` columns make "once per decision" a database rule,
    so two concurrent submissions cannot both be accepted.
    """

    __tablename__ = "appeals"
    __table_args__ = (Index(None, "site_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), default=None)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderation_decisions.id", ondelete="CASCADE"), unique=True, default=None
    )
    sanction_id: Mapped[int | None] = mapped_column(
        ForeignKey("sanctions.id", ondelete="CASCADE"), unique=True, default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None, index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None, index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.OPEN.value)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    outcome_reason: Mapped[str | None] = mapped_column(Text, default=None)
    """The decider's explanation to the author."""
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
