"""Reader reports (DSA Art. 16 notices). Enough reports put a published comment back in the queue
(the rule and its threshold belong to moderation: :func:`parley.moderation.reports.evaluate_reports`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from parley.comments.models import Comment, CommentStatus, Report
from parley.comments.services import apply_status_change
from parley.db.database import touch_threads
from parley.moderation.policy import ModerationPolicy
from parley.moderation.reports import evaluate_reports
from parley.moderation.services import do_record_decision
from parley.moderation.types import Decision, Verdict
from parley.webhooks.events import do_emit


@dataclass(frozen=True, slots=True)
class ReportResult:
    report: Report
    created: bool
    requeued: bool


def do_report(
    session: Session,
    comment: Comment,
    *,
    reporter_id: int | None,
    ip_hash: str | None,
    reason: str,
    detail: str,
    contact: str | None,
    good_faith: bool,
    policy: ModerationPolicy,
    now: datetime,
) -> ReportResult:
    """File a report; the same reporter reporting again changes nothing (one voice per reader)."""
    who = Report.reporter_id == reporter_id if reporter_id is not None else Report.ip_hash == ip_hash
    existing = session.scalar(select(Report).where(Report.comment_id == comment.id, who).limit(1))
    if existing is not None and (reporter_id is not None or ip_hash is not None):
        return ReportResult(existing, False, False)
    report = Report(
        site_id=comment.site_id,
        comment_id=comment.id,
        reporter_id=reporter_id,
        reason=reason,
        detail=detail,
        reporter_contact=contact,
        good_faith=good_faith,
        ip_hash=ip_hash,
        created_at=now,
    )
    session.add(report)
    session.execute(
        update(Comment).where(Comment.id == comment.id).values(report_count=Comment.report_count + 1)
    )
    touch_threads(comment.thread_id)  # what a report changes is this comment's (and thread's) rows
    session.flush()
    session.refresh(comment)
    event = {"report_id": report.id, "comment_id": comment.id, "reason": reason}
    do_emit(session, site_id=comment.site_id, kind="report.created", data=event, now=now)
    outcome = evaluate_reports(status=comment.status, report_count=comment.report_count, policy=policy)
    if outcome.requeue and outcome.reason is not None:
        decision = Decision(
            verdict=Verdict.HOLD, reasons=(outcome.reason,), scores={}, tags=frozenset({"reported"}), runs=()
        )
        do_record_decision(
            session,
            site_id=comment.site_id,
            comment_id=comment.id,
            decision=decision,
            status_before=comment.status,
            status_after=CommentStatus.HELD.value,
            now=now,
            trigger="reports",
        )
        apply_status_change(session, comment, CommentStatus.HELD.value, now)
    return ReportResult(report, True, outcome.requeue)
