"""ORM models of the accounts domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parley.db.base import Base, BigId


class Role(StrEnum):
    COMMENTER = "commenter"
    MODERATOR = "moderator"
    ADMIN = "admin"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    BANNED = "banned"


class AccountKind(StrEnum):
    LOCAL = "local"  # registered with e-mail and password (or created by an admin)
    SSO = "sso"  # created by a publisher's single sign-on
    GUEST = "guest"  # a guest name bound to a guest session
    IMPORTED = "imported"  # an author name brought in by an importer


class Account(Base):
    """A person who comments or moderates. Guests are accounts too (kind ``guest``).

    ``name_skeleton`` is the look-alike-proof form of ``display_name``; its unique index is what
    stops two people from holding names that look the same, even under concurrent sign-ups. Guests
    do not own their name (skeleton NULL): they may not look like an account's or a reserved name,
    but two guests may both call themselves "Max" (see docs/decisions/0003-guest-names.md).
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    name_skeleton: Mapped[str | None] = mapped_column(String(400), unique=True, default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    email_normalized: Mapped[str | None] = mapped_column(String(320), unique=True, default=None)
    guest_key: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    """Guests: a keyed hash of name and e-mail, so a returning guest gets their guest account back."""
    password_hash: Mapped[str | None] = mapped_column(String(256), default=None)
    role: Mapped[str] = mapped_column(String(16), default=Role.COMMENTER.value)
    kind: Mapped[str] = mapped_column(String(16), default=AccountKind.LOCAL.value)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE.value)
    suspended_until: Mapped[datetime | None] = mapped_column(default=None)
    always_premoderate: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    home_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class NameChange(Base):
    """Rename history, shown to moderators next to the name."""

    __tablename__ = "name_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    old_name: Mapped[str] = mapped_column(String(200))
    new_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SsoIdentity(Base):
    """Links a publisher's user (site, subject) to a Parley account."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("site_id", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(256))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class SessionRecord(Base):
    """A login session. Only a hash of the token is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ApiToken(Base):
    """A token for the admin API (``Authorization: Bearer pat_…``). Only a hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), default=None)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class UsedTokenId(Base):
    """``jti`` values of SSO tokens already exchanged (replay protection), kept until expiry."""

    __tablename__ = "used_token_ids"
    __table_args__ = (UniqueConstraint("site_id", "jti"), Index(None, "expires_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[datetime]


class PendingRegistration(Base):
    """A sign-up waiting for its e-mail confirmation (``registration_confirmation``).

    Nothing about it is public: the account is created from it only when the link in the mail is
    used, so registration answers alike whether or not the address has an account. The token is not
    stored; it is an HMAC over the row (``accounts.confirmation``), recomputed when the mail is sent
    and when it comes back. Rows expire after a day and are deleted by the next registration.
    """

    __tablename__ = "pending_registrations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_normalized: Mapped[str] = mapped_column(String(320), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
