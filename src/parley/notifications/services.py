"""Use cases of notifications: preferences, in-widget items, signed unsubscribe links, and queueing
mails. Mail is only ever *queued* here (a job in the caller's transaction); :mod:`.jobs` sends it.

Job payloads carry ids and flags, never e-mail addresses: the address is read when the mail is
sent, so a mail queued for a person who has since been erased finds nobody and is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from parley.jobs.services import do_enqueue
from parley.notifications.errors import InvalidUnsubscribeLink
from parley.notifications.models import Notification, NotificationKind, NotificationSettings
from parley.security import sign, verify

MAIL_JOB = "notifications.mail"
UNSUBSCRIBE_KINDS = ("reply", "decision", "digest")
_PREF_FIELD = {"reply": "reply_emails", "decision": "decision_emails", "digest": "digest_emails"}


def preferences(session: Session, account_id: int) -> NotificationSettings:
    """The account's preferences (an unsaved row with the defaults when none is stored)."""
    found = session.get(NotificationSettings, account_id)
    if found is not None:
        return found
    return NotificationSettings(
        account_id=account_id, reply_emails=False, decision_emails=True, digest_emails=True, locale=None
    )


def do_set_preferences(
    session: Session, account_id: int, changes: dict[str, Any], now: datetime
) -> NotificationSettings:
    prefs = session.get(NotificationSettings, account_id)
    if prefs is None:
        prefs = preferences(session, account_id)
        session.add(prefs)
    for key in ("reply_emails", "decision_emails", "digest_emails", "locale"):
        if key in changes and changes[key] is not None:
            setattr(prefs, key, changes[key])
    prefs.updated_at = now
    session.flush()
    return prefs


def unsubscribe_signature(secret: bytes, account_id: int, kind: str) -> str:
    return sign(secret, "unsubscribe", f"{account_id}:{kind}".encode())


def unsubscribe_url(public_url: str, secret: bytes, account_id: int, kind: str) -> str:
    sig = unsubscribe_signature(secret, account_id, kind)
    return f"{public_url.rstrip('/')}/notifications/unsubscribe?a={account_id}&k={kind}&s={sig}"


def check_unsubscribe(secret: bytes, account_id: int, kind: str, signature: str) -> None:
    if kind not in UNSUBSCRIBE_KINDS or not verify(
        secret, "unsubscribe", f"{account_id}:{kind}".encode(), signature
    ):
        raise InvalidUnsubscribeLink()


def do_unsubscribe(session: Session, account_id: int, kind: str, now: datetime) -> None:
    from parley.accounts.models import Account

    if session.get(Account, account_id) is None:
        return  # erased since: nothing to unsubscribe, and no need to say so
    do_set_preferences(session, account_id, {_PREF_FIELD[kind]: False}, now)


def do_add_notification(
    session: Session,
    *,
    account_id: int,
    site_id: int | None,
    kind: NotificationKind,
    data: dict[str, Any],
    now: datetime,
) -> Notification:
    item = Notification(account_id=account_id, site_id=site_id, kind=kind.value, data=data, created_at=now)
    session.add(item)
    session.flush()
    return item


def list_notifications(
    session: Session,
    account_id: int,
    *,
    limit: int = 50,
    unread_only: bool = False,
    before: int | None = None,
) -> list[Notification]:
    stmt = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def names_of_comments(session: Session, comment_ids: Sequence[int]) -> dict[int, str]:
    from parley.comments.models import Comment

    wanted = [i for i in set(comment_ids) if i]
    if not wanted:
        return {}
    rows = session.execute(select(Comment.id, Comment.author_name).where(Comment.id.in_(wanted)))
    return {int(r.id): r.author_name for r in rows}


def unread_count(session: Session, account_id: int) -> int:
    stmt = select(func.count(Notification.id)).where(
        Notification.account_id == account_id, Notification.read_at.is_(None)
    )
    return int(session.scalar(stmt) or 0)


def do_mark_read(session: Session, account_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the given notifications (or all, with ``ids=None``) as read; returns how many changed."""
    stmt = update(Notification).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)[:500]))
    result = session.execute(stmt.values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def do_queue_mail(
    session: Session,
    template: str,
    account_id: int,
    now: datetime,
    *,
    params: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Queue a mail to an account (False: one with this ``dedupe_key`` was queued before).
    ``params``: ids and flags only, never addresses or bodies."""
    payload = {"template": template, "account_id": account_id, **(params or {})}
    return do_enqueue(session, MAIL_JOB, payload, now, max_attempts=8, dedupe_key=dedupe_key) is not None


def do_queue_pending_mail(session: Session, template: str, pending_id: int, now: datetime) -> None:
    """Queue a mail to a sign-up that has no account yet (``register_confirm``): the job reads the
    address from the pending registration when it sends, as it reads an account's."""
    do_enqueue(session, MAIL_JOB, {"template": template, "pending_id": pending_id}, now, max_attempts=8)


def do_notify_decision(session: Session, *, comment_id: int, now: datetime) -> None:
    """Tell a comment's author that it was held or rejected, with the reasons and the statement link.

    Called for every status change into ``held`` (from published) or ``rejected``; the workspace
    (issue 6) gets this for free because its decisions go through ``apply_status_change``.
    """
    from parley.comments.models import Comment, Thread

    comment = session.get(Comment, comment_id)
    if comment is None or comment.author_id is None:
        return
    thread = session.get(Thread, comment.thread_id)
    do_add_notification(
        session,
        account_id=comment.author_id,
        site_id=comment.site_id,
        kind=NotificationKind.DECISION,
        # the thread's key and URL, as a reply's notification has them: the widget links the
        # comment (whose note carries the statement and the appeal), on this page or the article's
        data={
            "comment_id": comment.id,
            "thread_id": comment.thread_id,
            "thread_key": thread.key if thread else None,
            "thread_url": thread.url if thread else None,
            "status": comment.status,
        },
        now=now,
    )
    if preferences(session, comment.author_id).decision_emails:
        do_queue_mail(session, "decision", comment.author_id, now, params={"comment_id": comment.id})


def do_notify_appeal_outcome(
    session: Session,
    *,
    account_id: int,
    comment_id: int,
    upheld: bool,
    now: datetime,
    site_id: int | None = None,
    reason: str | None = None,
    statement_url: str | None = None,
) -> None:
    """Tell an author how their appeal was decided (issue 6 calls this). ``reason`` is the
    moderator's explanation to the author; it travels in the job payload."""
    data: dict[str, Any] = {"comment_id": comment_id, "upheld": upheld, "statement_url": statement_url}
    do_add_notification(
        session, account_id=account_id, site_id=site_id, kind=NotificationKind.APPEAL, data=data, now=now
    )
    params = {**data, "reason": (reason or "")[:2000]}
    do_queue_mail(session, "appeal", account_id, now, params=params)


def do_queue_digests(session: Session, now: datetime) -> int:
    """Queue one digest per moderator and site with a non-empty queue; returns how many."""
    from parley.accounts.models import Account, Role
    from parley.comments.models import Comment, Report
    from parley.sites.models import Site, SiteRole

    queued = 0
    admins = list(
        session.scalars(select(Account.id).where(Account.role.in_([Role.ADMIN.value, Role.MODERATOR.value])))
    )
    for site in session.scalars(select(Site).order_by(Site.id)):
        held = session.scalar(
            select(func.count(Comment.id)).where(Comment.site_id == site.id, Comment.status == "held")
        )
        reports = session.scalar(
            select(func.count(Report.id)).where(Report.site_id == site.id, Report.status == "open")
        )
        if not held and not reports:
            continue
        site_mods = list(session.scalars(select(SiteRole.account_id).where(SiteRole.site_id == site.id)))
        for account_id in dict.fromkeys([*admins, *site_mods]):
            if not preferences(session, account_id).digest_emails:
                continue
            day = now.date().isoformat()
            queued += do_queue_mail(
                session,
                "digest",
                account_id,
                now,
                params={"site_id": site.id},
                dedupe_key=f"digest:{site.id}:{account_id}:{day}",
            )
    return queued
