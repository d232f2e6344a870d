"""Reader reports: N distinct reports put a published comment back into the moderation queue.

A pure function, so the comment service (on ``POST /comments/{id}/reports``) and the ``reports``
phase (when a reported comment is edited) apply one rule. The threshold is per site
(``policy.reports.requeue_after``; 0 switches it off).
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.moderation.messages import make_reason
from parley.moderation.policy import ModerationPolicy
from parley.moderation.types import Reason, Verdict


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    requeue: bool
    reason: Reason | None = None
    """The ``reported`` reason to store with the new decision when ``requeue``."""


def evaluate_reports(*, status: str, report_count: int, policy: ModerationPolicy) -> ReportOutcome:
    """Should a comment with ``report_count`` distinct reader reports go back to the queue?

    Only published comments are re-queued (a held one is in the queue already, a rejected or
    deleted one is gone). Count each reader once: the caller passes distinct reporters.
    """
    threshold = policy.reports.requeue_after
    if status != "published" or threshold <= 0 or report_count < threshold:
        return ReportOutcome(False)
    reason = make_reason(
        "reports",
        "reported",
        Verdict.HOLD,
        {"count": report_count, "limit": threshold},
    )
    return ReportOutcome(True, reason)
