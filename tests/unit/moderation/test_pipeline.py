from __future__ import annotations

from parley.moderation.backends import ModerationBackends
from parley.moderation.context import ModerationContext
from parley.moderation.pipeline import Pipeline, build_pipeline, classifier_phases, default_phases
from parley.moderation.services import do_record_outcome
from parley.moderation.types import FailMode, PhaseResult, Verdict

from .helpers import make_ctx, policy, seed_comments


def test_default_phases_in_order() -> None:
    names = [p.name for p in default_phases()]
    structural = ["thread_state", "length", "sanitize", "trust", "rate", "premoderation"]
    assert names[:6] == structural
    assert names[6:10] == ["names", "terms", "links", "copies"]
    assert names[-1] == "reports"
    assert names[10:-1] == [p.name for p in classifier_phases()]


def test_the_seed_thread_publishes_on_a_new_site(stores: ModerationBackends) -> None:
    pipeline = build_pipeline()
    for i, comment in enumerate(seed_comments()):
        ctx = make_ctx(comment["text"], stores=stores, account_id=i + 1, name=comment["name"], timed=False)
        decision = pipeline.run(ctx)
        assert decision.verdict is Verdict.PUBLISH, (comment["id"], decision.public_reasons())
        assert decision.reasons == ()
        do_record_outcome(ctx, decision, comment_id=comment["id"])


def test_every_phase_leaves_its_evidence_and_the_strongest_verdict_wins(stores: ModerationBackends) -> None:
    pol = policy(
        terms={"banned": ["Trottel"], "suspect": ["Staatsfunk"]},
        links={"max_links": 0},
        classifier={"enabled": False},  # the models' own findings are the classifier issue's tests
    )
    text = "Der Staatsfunk und dieser T r o t t e l, siehe example.com"
    decision = build_pipeline().run(make_ctx(text, pol=pol, stores=stores, name="Redaktion"))
    assert decision.verdict is Verdict.REJECT
    assert [(r.phase, r.code) for r in decision.reasons] == [
        ("names", "name_impersonation"),
        ("terms", "suspect_term"),
        ("terms", "banned_term"),
        ("links", "too_many_links"),
    ]


class _Broken:
    name = "broken"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        raise RuntimeError("detector down")


class _BrokenOpen(_Broken):
    name = "broken_open"
    fail_mode = FailMode.OPEN


def test_a_failing_phase_is_recorded_and_holds_when_it_fails_closed() -> None:
    decision = Pipeline([_Broken(), *default_phases()]).run(make_ctx("Hallo"))
    assert decision.verdict is Verdict.HOLD
    assert decision.failed_phases == ["broken"]
    assert decision.reasons[0].code == "phase_failed"
    assert decision.reasons[0].detail == "The broken check failed (RuntimeError); held for a moderator."
    assert Pipeline([_BrokenOpen()]).run(make_ctx("Hallo")).verdict is Verdict.PUBLISH


def test_refusals_stop_the_run_and_record_nothing(stores: ModerationBackends) -> None:
    ctx = make_ctx("Hallo", stores=stores, status="banned")
    decision = build_pipeline().run(ctx)
    assert decision.refusal is not None
    assert [r.phase for r in decision.runs][-1] == "trust"
    assert do_record_outcome(ctx, decision, comment_id=1) is None
    assert stores.history.stats("acct:1").rejected == 0
