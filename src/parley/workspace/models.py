"""ORM model of account sanctions: warnings, timed suspensions, bans, always-pre-moderate.

A sanction is a row of its own (not only the account's status) so the author and moderators see the
history, each restricting sanction has a statement of reasons (``statement_token``) and can be
appealed, and the transparency report can count them. Lifting one writes a new row (``kind``
``lifted``) rather than changing the old one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class SanctionKind(StrEnum):
    WARNING = "warning"
    SUSPENSION = "suspension"
    BAN = "ban"
    PREMODERATE = "premoderate"
    LIFTED = "lifted"  # suspension, ban and always-pre-moderate taken back

    @property
    def restricts(self) -> bool:
        """Restrictions get a statement of reasons (DSA Art. 17); a warning or a lift does not."""
        return self in (SanctionKind.SUSPENSION, SanctionKind.BAN, SanctionKind.PREMODERATE)


class Sanction(Base):
    __tablename__ = "sanctions"
    __table_args__ = (Index(None, "account_id", "id"), Index(None, "site_id", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"), default=None)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    until: Mapped[datetime | None] = mapped_column(default=None)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    statement_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime]
