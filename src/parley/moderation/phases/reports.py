"""An edited comment that readers had already reported often enough goes back to the queue.

The rule itself (:func:`parley.moderation.reports.evaluate_reports`) is what the comment service
calls when a report arrives; this phase applies the same rule when the comment is moderated again.
"""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.reports import evaluate_reports
from parley.moderation.types import FailMode, PhaseResult


class ReportsPhase:
    name = "reports"
    fail_mode = FailMode.OPEN

    def run(self, ctx: ModerationContext) -> PhaseResult:
        if not ctx.is_edit or ctx.report_count <= 0:
            return PhaseResult.ok()
        outcome = evaluate_reports(status="published", report_count=ctx.report_count, policy=ctx.policy)
        if outcome.reason is None:
            return PhaseResult.ok()
        return PhaseResult(verdict=outcome.reason.verdict, reasons=(outcome.reason,))
