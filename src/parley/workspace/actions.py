"""Moderator actions on comments: approve, reject, feature, bulk, a whole copy wave, undo.

Each status change writes a :class:`~parley.moderation.models.ModerationDecision` (actor
``moderator``; a statement token when it restricts) and goes through
:func:`parley.comments.services.apply_status_change`, so counters, webhooks and the author's
notification follow. Each action writes one audit event whose ``changes`` list is what
:func:`do_undo` reverts. Open reader reports on a decided comment are resolved with the outcome, so
reporters learn it (DSA Art. 16(5)). Nothing here commits; views publish live events after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent
from parley.audit.services import do_audit
from parley.comments.models import Comment, CommentStatus, Report, Thread
from parley.comments.services import apply_status_change
from parley.errors import AppError, ErrorCode, ValidationFailed
from parley.moderation.models import ModerationDecision
from parley.moderation.services import do_index_published, needs_statement
from parley.workspace.access import Moderator
from parley.workspace.reasons import APPROVE_CODE, UNDONE_CODE, is_reason_code, label_for

PUBLISHED = CommentStatus.PUBLISHED.value
HELD = CommentStatus.HELD.value
REJECTED = CommentStatus.REJECTED.value
_VERDICT = {PUBLISHED: "publish", HELD: "hold", REJECTED: "reject"}
UNDOABLE = frozenset(
    {
        "comment.approve",
        "comment.reject",
        "comment.feature",
        "comment.unfeature",
        "comments.bulk_approve",
        "comments.bulk_reject",
        "wave.approve",
        "wave.reject",
    }
)
UNDO = "moderation.undo"
MAX_BULK = 500
MAX_NOTE = 2000


class NothingToUndo(AppError):
    code = ErrorCode.NOTHING_TO_UNDO
    status = 409
    message = "There is nothing to undo."


@dataclass
class Outcome:
    """What an action changed: the comments whose visibility changed (for live events)."""

    changed: list[Comment] = field(default_factory=list)
    decisions: list[ModerationDecision] = field(default_factory=list)
    audit: AuditEvent | None = None

    @property
    def count(self) -> int:
        return len(self.changed)


def check_reject_input(reason_code: str, note: str | None) -> tuple[str, str | None]:
    if not is_reason_code(reason_code):
        raise ValidationFailed(
            [{"field": "reason_code", "code": "invalid", "message": "unknown reason code"}]
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed([{"field": "note", "code": "too_long", "message": f"at most {MAX_NOTE}"}])
    return reason_code, note


def do_moderator_decision(
    session: Session,
    comment: Comment,
    *,
    actor_id: int,
    status_after: str,
    reason_code: str,
    note: str | None,
    now: datetime,
    trigger: str = "workspace",
) -> ModerationDecision:
    """Record a person's decision on ``comment`` and apply it (counters, events, notifications)."""
    label = label_for(reason_code)
    verdict = _VERDICT.get(status_after, "publish")
    record = ModerationDecision(
        site_id=comment.site_id,
        comment_id=comment.id,
        verdict=verdict,
        status_before=comment.status,
        status_after=status_after,
        reasons=[{"phase": "moderator", "code": reason_code, "detail": label, "verdict": verdict}],
        scores={},
        model_versions={},
        actor_kind="moderator",
        actor_id=actor_id,
        reason_code=reason_code,
        note=note,
        automated=False,
        trigger=trigger,
        statement_token=secrets.token_urlsafe(18) if needs_statement(status_after) else None,
        created_at=now,
    )
    session.add(record)
    session.flush()
    was_published = comment.status == PUBLISHED
    apply_status_change(session, comment, status_after, now)
    if status_after == PUBLISHED and not was_published:
        do_index_published(session, comment, now)  # later copies of it are found
    return record


def do_resolve_reports(session: Session, comment: Comment, outcome: str, now: datetime) -> int:
    """Close the open reader reports of a comment with ``outcome`` (``removed`` / ``kept``) and tell
    each reporter with an account what came of their notice (DSA Art. 16(5))."""
    from parley.notifications.models import NotificationKind
    from parley.notifications.services import do_add_notification

    reporters = set(
        session.scalars(
            select(Report.reporter_id).where(
                Report.comment_id == comment.id, Report.status == "open", Report.reporter_id.is_not(None)
            )
        )
    )
    result = session.execute(
        update(Report)
        .where(Report.comment_id == comment.id, Report.status == "open")
        .values(status="resolved", outcome=outcome, resolved_at=now)
    )
    thread = session.get(Thread, comment.thread_id)
    for reporter_id in sorted(r for r in reporters if r is not None):
        do_add_notification(
            session,
            account_id=reporter_id,
            site_id=comment.site_id,
            kind=NotificationKind.REPORT,
            # key and URL of the thread: the widget links the comment, as for a reply
            data={
                "comment_id": comment.id,
                "thread_id": comment.thread_id,
                "thread_key": thread.key if thread else None,
                "thread_url": thread.url if thread else None,
                "outcome": outcome,
            },
            now=now,
        )
    return int(getattr(result, "rowcount", 0) or 0)


def _change(comment: Comment, before: str, record: ModerationDecision | None) -> dict[str, Any]:
    return {
        "comment_id": comment.id,
        "decision_id": record.id if record else None,
        "before": before,
        "after": comment.status,
    }


def _decide(
    session: Session,
    comments: Sequence[Comment],
    moderator: Moderator,
    *,
    status_after: str,
    reason_code: str,
    note: str | None,
    now: datetime,
    action: str,
    trigger: str = "workspace",
    audit_data: dict[str, Any] | None = None,
) -> Outcome:
    out = Outcome()
    changes = []
    site_ids = set()
    for comment in comments:
        moderator.check_site(comment.site_id)
        if comment.status == CommentStatus.DELETED.value:
            continue  # the author deleted it meanwhile: nothing left to decide
        before = comment.status
        record = do_moderator_decision(
            session,
            comment,
            actor_id=moderator.account_id,
            status_after=status_after,
            reason_code=reason_code,
            note=note,
            now=now,
            trigger=trigger,
        )
        do_resolve_reports(session, comment, "removed" if status_after == REJECTED else "kept", now)
        out.decisions.append(record)
        changes.append(_change(comment, before, record))
        site_ids.add(comment.site_id)
        if before != comment.status:
            out.changed.append(comment)
    single = len(comments) == 1
    out.audit = do_audit(
        session,
        action=action,
        object_type="comment" if single else "comments",
        object_id=comments[0].id if single and comments else None,
        site_id=next(iter(site_ids)) if len(site_ids) == 1 else None,
        actor_kind="moderator",
        actor_id=moderator.account_id,
        now=now,
        data={"reason_code": reason_code, "changes": changes, **(audit_data or {})},
    )
    session.flush()
    return out


def do_approve(session: Session, comment: Comment, moderator: Moderator, now: datetime) -> Outcome:
    """Publish a held comment, or keep a reported one published (its reports are resolved)."""
    return _decide(
        session,
        [comment],
        moderator,
        status_after=PUBLISHED,
        reason_code=APPROVE_CODE,
        note=None,
        now=now,
        action="comment.approve",
    )


def do_reject(
    session: Session,
    comment: Comment,
    moderator: Moderator,
    reason_code: str,
    note: str | None,
    now: datetime,
) -> Outcome:
    reason_code, note = check_reject_input(reason_code, note)
    return _decide(
        session,
        [comment],
        moderator,
        status_after=REJECTED,
        reason_code=reason_code,
        note=note,
        now=now,
        action="comment.reject",
    )


def do_bulk(
    session: Session,
    comments: Sequence[Comment],
    moderator: Moderator,
    *,
    approve: bool,
    reason_code: str | None,
    note: str | None,
    now: datetime,
    wave_id: int | None = None,
) -> Outcome:
    """Approve or reject many comments in one step (one audit event, undone together)."""
    if not comments:
        raise ValidationFailed([{"field": "ids", "code": "missing", "message": "no comments selected"}])
    if len(comments) > MAX_BULK:
        raise ValidationFailed([{"field": "ids", "code": "too_many", "message": f"at most {MAX_BULK}"}])
    if approve:
        code, note = APPROVE_CODE, None
    else:
        code, note = check_reject_input(reason_code or "", note)
    kind = "wave" if wave_id is not None else "comments.bulk"
    action = (
        f"{kind}.{'approve' if approve else 'reject'}"
        if wave_id is not None
        else (f"comments.bulk_{'approve' if approve else 'reject'}")
    )
    return _decide(
        session,
        comments,
        moderator,
        status_after=PUBLISHED if approve else REJECTED,
        reason_code=code,
        note=note,
        now=now,
        action=action,
        trigger="wave" if wave_id is not None else "bulk",
        audit_data={"wave_id": wave_id} if wave_id is not None else None,
    )


def do_feature(
    session: Session, comment: Comment, moderator: Moderator, featured: bool, now: datetime
) -> Outcome:
    """Pin a published comment as an editors' pick (or take it back). Only audited: no restriction."""
    moderator.check_site(comment.site_id)
    if featured and comment.status != PUBLISHED:
        raise ValidationFailed(
            [{"field": "featured", "code": "invalid", "message": "only published comments"}]
        )
    before = comment.featured
    comment.featured = featured
    comment.updated_at = now
    out = Outcome()
    out.audit = do_audit(
        session,
        action="comment.feature" if featured else "comment.unfeature",
        object_type="comment",
        object_id=comment.id,
        site_id=comment.site_id,
        actor_kind="moderator",
        actor_id=moderator.account_id,
        now=now,
        data={"changes": [{"comment_id": comment.id, "featured_before": before, "featured_after": featured}]},
    )
    from parley.comments.threads import bump_version

    bump_version(session, comment.thread_id)
    session.flush()
    return out


def last_undoable(session: Session, moderator: Moderator) -> AuditEvent | None:
    """The moderator's latest action, if it can still be undone (an undo is not undone again)."""
    latest = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.actor_id == moderator.account_id,
            AuditEvent.actor_kind == "moderator",
            AuditEvent.action.in_(sorted(UNDOABLE | {UNDO})),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if latest is None or latest.action == UNDO:
        return None
    return latest


def do_undo(session: Session, moderator: Moderator, now: datetime) -> Outcome:
    """Revert the moderator's last action. A comment someone changed since is left as it is."""
    event = last_undoable(session, moderator)
    if event is None:
        raise NothingToUndo()
    out = Outcome()
    reverted = []
    for change in (event.data or {}).get("changes", []):
        comment = session.get(Comment, int(change["comment_id"]))
        if comment is None or not moderator.may_moderate(comment.site_id):
            continue
        if "featured_before" in change:
            if comment.featured == change["featured_after"]:
                comment.featured = bool(change["featured_before"])
                reverted.append(comment.id)
                from parley.comments.threads import bump_version

                bump_version(session, comment.thread_id)  # the editors' pick shows in the thread
            continue
        before, after = str(change["before"]), str(change["after"])
        if comment.status != after:
            continue  # decided again since: undoing would overrule someone
        if before == after:
            reverted.append(comment.id)  # nothing visible changed (e.g. kept a reported comment)
            continue
        record = do_moderator_decision(
            session,
            comment,
            actor_id=moderator.account_id,
            status_after=before,
            reason_code=APPROVE_CODE if before == PUBLISHED else UNDONE_CODE,
            note=None,
            now=now,
            trigger="undo",
        )
        out.decisions.append(record)
        out.changed.append(comment)
        reverted.append(comment.id)
    out.audit = do_audit(
        session,
        action=UNDO,
        object_type=event.object_type,
        object_id=event.object_id,
        site_id=event.site_id,
        actor_kind="moderator",
        actor_id=moderator.account_id,
        now=now,
        data={"undoes": event.id, "undone_action": event.action, "comment_ids": reverted},
    )
    session.flush()
    return out
