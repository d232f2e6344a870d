from __future__ import annotations

from parley.moderation.phases.reports import ReportsPhase
from parley.moderation.policy import ModerationPolicy
from parley.moderation.reports import evaluate_reports
from parley.moderation.types import Verdict

from .helpers import make_ctx, policy


def test_n_reports_requeue_a_published_comment() -> None:
    pol = ModerationPolicy()  # default: 3
    assert not evaluate_reports(status="published", report_count=2, policy=pol).requeue
    outcome = evaluate_reports(status="published", report_count=3, policy=pol)
    assert outcome.requeue
    assert outcome.reason is not None
    assert (outcome.reason.code, outcome.reason.verdict) == ("reported", Verdict.HOLD)
    assert outcome.reason.detail == "Reported by 3 readers; back in the queue for a moderator."


def test_only_published_comments_are_requeued_and_zero_switches_it_off() -> None:
    pol = ModerationPolicy()
    for status in ("held", "rejected", "deleted"):
        assert not evaluate_reports(status=status, report_count=10, policy=pol).requeue
    off = policy(reports={"requeue_after": 0})
    assert not evaluate_reports(status="published", report_count=100, policy=off).requeue


def test_phase_holds_an_edit_of_an_often_reported_comment() -> None:
    result = ReportsPhase().run(make_ctx("Neu formuliert.", is_edit=True, comment_id=5, report_count=4))
    assert (result.verdict, result.reasons[0].code) == (Verdict.HOLD, "reported")
    assert ReportsPhase().run(make_ctx("Neu.", is_edit=True, comment_id=5, report_count=1)).reasons == ()
    assert ReportsPhase().run(make_ctx("Neu.", report_count=9)).reasons == ()  # new comments have none
