"""Sanctions on authors: warnings, timed suspensions, bans, always-pre-moderate, and lifting them.

The account's own columns (``status``, ``suspended_until``, ``always_premoderate``) are what the
rest of Parley enforces; a :class:`~parley.workspace.models.Sanction` row records each step with its
reason, so the author sees the same history as the moderators (no shadow bans) and restrictions get
a statement of reasons. Accounts are global, so a sanction applies on every site; a moderator may
sanction only an author who wrote on a site they moderate.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.models import Account, AccountStatus
from parley.audit.services import do_audit
from parley.comments.models import Comment
from parley.errors import NotFound, ValidationFailed
from parley.workspace.access import Moderator
from parley.workspace.actions import check_reject_input
from parley.workspace.models import Sanction, SanctionKind

MAX_SUSPENSION_DAYS = 365


def access_author(session: Session, moderator: Moderator, account_id: int) -> Account:
    """An author this moderator may see: one who wrote on a site they moderate (else 404)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    if moderator.site_ids is None:
        return account
    wrote_here = session.scalar(
        select(Comment.id)
        .where(Comment.author_id == account_id, Comment.site_id.in_(sorted(moderator.site_ids)))
        .limit(1)
    )
    if wrote_here is None and account.home_site_id not in moderator.site_ids:
        raise NotFound()
    return account


def author_site(session: Session, moderator: Moderator, account: Account) -> int | None:
    """The site a sanction is recorded under: where the author last wrote among the moderator's."""
    stmt = select(Comment.site_id).where(Comment.author_id == account.id)
    if moderator.site_ids is not None:
        stmt = stmt.where(Comment.site_id.in_(sorted(moderator.site_ids)))
    found = session.scalar(stmt.order_by(Comment.id.desc()).limit(1))
    return int(found) if found is not None else account.home_site_id


def do_sanction(
    session: Session,
    moderator: Moderator,
    account: Account,
    kind: SanctionKind,
    *,
    reason_code: str,
    note: str | None,
    now: datetime,
    days: int | None = None,
) -> Sanction:
    """Apply ``kind`` to ``account`` and record it (with a statement token when it restricts)."""
    reason_code, note = check_reject_input(reason_code, note)
    if account.role in ("moderator", "admin") and kind is not SanctionKind.WARNING:
        raise ValidationFailed(
            [{"field": "kind", "code": "staff", "message": "staff accounts are not sanctioned here"}]
        )
    until = None
    if kind is SanctionKind.SUSPENSION:
        if days is None or not 1 <= days <= MAX_SUSPENSION_DAYS:
            raise ValidationFailed(
                [{"field": "days", "code": "invalid", "message": f"1 to {MAX_SUSPENSION_DAYS} days"}]
            )
        until = now + timedelta(days=days)
        account.status = AccountStatus.SUSPENDED.value
        account.suspended_until = until
    elif kind is SanctionKind.BAN:
        account.status = AccountStatus.BANNED.value
        account.suspended_until = None
    elif kind is SanctionKind.PREMODERATE:
        account.always_premoderate = True
    elif kind is SanctionKind.LIFTED:
        raise ValueError("use do_lift")
    return _record(session, moderator, account, kind, reason_code, note, until, now)


def do_lift(
    session: Session, moderator: Moderator, account: Account, *, note: str | None, now: datetime
) -> Sanction:
    """Take back a suspension, a ban and always-pre-moderate (one step, recorded as ``lifted``)."""
    account.status = AccountStatus.ACTIVE.value
    account.suspended_until = None
    account.always_premoderate = False
    note = (note or "").strip()[:2000] or None
    return _record(session, moderator, account, SanctionKind.LIFTED, "other", note, None, now)


def _record(
    session: Session,
    moderator: Moderator,
    account: Account,
    kind: SanctionKind,
    reason_code: str,
    note: str | None,
    until: datetime | None,
    now: datetime,
) -> Sanction:
    site_id = author_site(session, moderator, account)
    sanction = Sanction(
        site_id=site_id,
        account_id=account.id,
        kind=kind.value,
        reason_code=reason_code,
        note=note,
        until=until,
        actor_id=moderator.account_id,
        statement_token=secrets.token_urlsafe(18) if kind.restricts else None,
        created_at=now,
    )
    session.add(sanction)
    session.flush()
    do_audit(
        session,
        action=f"account.{kind.value}",
        object_type="account",
        object_id=account.id,
        site_id=site_id,
        actor_kind="moderator",
        actor_id=moderator.account_id,
        now=now,
        data={
            "sanction_id": sanction.id,
            "reason_code": reason_code,
            "until": until.isoformat() if until else None,
            "status_after": account.status,
        },
    )
    return sanction


def sanctions_of(session: Session, account_id: int, limit: int = 100) -> list[Sanction]:
    """An account's sanctions, newest first: what the author and the moderators both see."""
    return list(
        session.scalars(
            select(Sanction)
            .where(Sanction.account_id == account_id)
            .order_by(Sanction.id.desc())
            .limit(limit)
        )
    )
