"""File and decide appeals (DSA Art. 20).

- :func:`do_appeal`: the author, within the window, once per decision or sanction.
- :func:`check_may_decide`: a person other than the one who decided (anyone when it was automated).
- :func:`do_decide_appeal`: uphold or reverse; a reversal republishes the comment or lifts the
  sanction; the author is told the outcome and its reason (in-app, and by mail through
  ``parley.notifications`` when they want decision mails).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.appeals.errors import (
    AppealDecided,
    AppealExists,
    AppealNotAuthor,
    AppealSameModerator,
    AppealWindowClosed,
    DecisionSuperseded,
)
from parley.appeals.models import Appeal, AppealStatus
from parley.audit.services import do_audit
from parley.comments.models import Comment
from parley.errors import ValidationFailed
from parley.moderation.models import ModerationDecision
from parley.statements.services import StatementSource, deadline, find_statement, statement_url
from parley.webhooks.events import do_emit
from parley.workspace.access import Moderator
from parley.workspace.actions import do_moderator_decision
from parley.workspace.models import Sanction, SanctionKind
from parley.workspace.reasons import APPROVE_CODE
from parley.workspace.sanctions import do_lift

MAX_TEXT = 5000


def check_appeal_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed([{"field": "text", "code": "missing", "message": "say why"}])
    if len(text) > MAX_TEXT:
        raise ValidationFailed([{"field": "text", "code": "too_long", "message": f"at most {MAX_TEXT}"}])
    return text


def find_appeal(session: Session, source: StatementSource) -> Appeal | None:
    if source.decision is not None:
        return session.scalar(select(Appeal).where(Appeal.decision_id == source.decision.id))
    assert source.sanction is not None
    return session.scalar(select(Appeal).where(Appeal.sanction_id == source.sanction.id))


def is_current(session: Session, source: StatementSource) -> bool:
    """Is the decision still in force (no later decision on the comment, no later sanction step)?"""
    if source.decision is not None:
        latest = session.scalar(
            select(ModerationDecision.id)
            .where(ModerationDecision.comment_id == source.decision.comment_id)
            .order_by(ModerationDecision.id.desc())
            .limit(1)
        )
        return latest == source.decision.id
    assert source.sanction is not None
    later = session.scalar(
        select(Sanction.id)
        .where(
            Sanction.account_id == source.sanction.account_id,
            Sanction.id > source.sanction.id,
            Sanction.kind == SanctionKind.LIFTED.value,
        )
        .limit(1)
    )
    return later is None


def do_appeal(
    session: Session, source: StatementSource, account_id: int, text: str, now: datetime, window_days: int
) -> Appeal:
    """File the author's appeal. Preconditions checked here: author, window, current, not yet."""
    if source.author_id is None or source.author_id != account_id:
        raise AppealNotAuthor()
    text = check_appeal_text(text)
    if now > deadline(source, window_days):
        raise AppealWindowClosed(extra={"deadline": deadline(source, window_days).isoformat()})
    if find_appeal(session, source) is not None:
        raise AppealExists()
    if not is_current(session, source):
        raise DecisionSuperseded()
    appeal = Appeal(
        site_id=source.site.id if source.site is not None else None,
        decision_id=source.decision.id if source.decision is not None else None,
        sanction_id=source.sanction.id if source.sanction is not None else None,
        comment_id=source.comment.id if source.comment is not None else None,
        author_id=account_id,
        text=text,
        status=AppealStatus.OPEN.value,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:  # a concurrent submission won: once per decision is a unique index
        raise AppealExists() from None
    do_audit(
        session,
        action="appeal.created",
        object_type="appeal",
        object_id=appeal.id,
        site_id=appeal.site_id,
        actor_kind="author",
        actor_id=account_id,
        now=now,
        data={
            "decision_id": appeal.decision_id,
            "sanction_id": appeal.sanction_id,
            "comment_id": appeal.comment_id,
        },
    )
    if appeal.site_id is not None:
        do_emit(session, site_id=appeal.site_id, kind="appeal.created", data=_event(appeal), now=now)
    return appeal


def _event(appeal: Appeal) -> dict[str, object]:
    return {
        "appeal_id": appeal.id,
        "comment_id": appeal.comment_id,
        "decision_id": appeal.decision_id,
        "sanction_id": appeal.sanction_id,
        "status": appeal.status,
    }


def source_of(session: Session, appeal: Appeal) -> StatementSource:
    if appeal.decision_id is not None:
        decision = session.get(ModerationDecision, appeal.decision_id)
        assert decision is not None
        assert decision.statement_token is not None
        return find_statement(session, decision.statement_token)
    sanction = session.get(Sanction, appeal.sanction_id)
    assert sanction is not None
    assert sanction.statement_token is not None
    return find_statement(session, sanction.statement_token)


def check_may_decide(session: Session, appeal: Appeal, moderator: Moderator) -> StatementSource:
    """A different person decides: not the moderator who made the decision (Art. 20(6))."""
    moderator.check_site(appeal.site_id)
    if appeal.status != AppealStatus.OPEN.value:
        raise AppealDecided()
    source = source_of(session, appeal)
    decided_by: int | None = None
    if source.decision is not None and source.decision.actor_kind != "system":
        decided_by = source.decision.actor_id
    elif source.sanction is not None:
        decided_by = source.sanction.actor_id
    if decided_by is not None and decided_by == moderator.account_id:
        raise AppealSameModerator()
    if appeal.author_id == moderator.account_id:
        raise AppealSameModerator()
    return source


@dataclass(frozen=True, slots=True)
class AppealOutcome:
    appeal: Appeal
    republished: Comment | None


def do_decide_appeal(
    session: Session,
    appeal: Appeal,
    moderator: Moderator,
    *,
    reverse: bool,
    reason: str,
    now: datetime,
    public_url: str,
) -> AppealOutcome:
    source = check_may_decide(session, appeal, moderator)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([{"field": "reason", "code": "missing", "message": "tell the author why"}])
    reason = reason[:2000]
    republished: Comment | None = None
    if reverse:
        if source.comment is not None and source.comment.status in ("held", "rejected"):
            do_moderator_decision(
                session,
                source.comment,
                actor_id=moderator.account_id,
                status_after="published",
                reason_code=APPROVE_CODE,
                note=reason,
                now=now,
                trigger="appeal",
            )
            republished = source.comment
        elif source.sanction is not None and source.author is not None:
            do_lift(session, moderator, source.author, note=reason, now=now)
    appeal.status = (AppealStatus.REVERSED if reverse else AppealStatus.UPHELD).value
    appeal.decided_by = moderator.account_id
    appeal.outcome_reason = reason
    appeal.decided_at = now
    session.flush()
    do_audit(
        session,
        action=f"appeal.{appeal.status}",
        object_type="appeal",
        object_id=appeal.id,
        site_id=appeal.site_id,
        actor_kind="moderator",
        actor_id=moderator.account_id,
        now=now,
        data={
            "decision_id": appeal.decision_id,
            "sanction_id": appeal.sanction_id,
            "comment_id": appeal.comment_id,
        },
    )
    if appeal.site_id is not None:
        do_emit(session, site_id=appeal.site_id, kind="appeal.decided", data=_event(appeal), now=now)
    _tell_author(session, appeal, source, reason, now, public_url)
    return AppealOutcome(appeal, republished)


def _tell_author(
    session: Session, appeal: Appeal, source: StatementSource, reason: str, now: datetime, public_url: str
) -> None:
    from parley.notifications import services as notifications
    from parley.notifications.models import NotificationKind

    if appeal.author_id is None or session.get(Account, appeal.author_id) is None:
        return
    url = statement_url(public_url, source.token)
    upheld = appeal.status == AppealStatus.UPHELD.value
    if appeal.comment_id is not None:
        notifications.do_notify_appeal_outcome(
            session,
            account_id=appeal.author_id,
            comment_id=appeal.comment_id,
            upheld=upheld,
            now=now,
            site_id=appeal.site_id,
            reason=reason,
            statement_url=url,
        )
    else:  # a sanction: the mail template is about comments, so in-app only
        notifications.do_add_notification(
            session,
            account_id=appeal.author_id,
            site_id=appeal.site_id,
            kind=NotificationKind.APPEAL,
            data={"comment_id": None, "upheld": upheld, "statement_url": url},
            now=now,
        )


def open_appeals(session: Session, site_ids: frozenset[int] | None, limit: int = 200) -> list[Appeal]:
    stmt = select(Appeal).where(Appeal.status == AppealStatus.OPEN.value)
    if site_ids is not None:
        stmt = stmt.where(Appeal.site_id.in_(sorted(site_ids)))
    return list(session.scalars(stmt.order_by(Appeal.created_at, Appeal.id).limit(limit)))
