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


class _Counting:
    """A phase with a text-only ``prepare``; counts how often its work is done."""

    name = "counting"
    fail_mode = FailMode.CLOSED

    def __init__(self, broken_prepare: bool = False) -> None:
        self.work = 0
        self.broken_prepare = broken_prepare

    def _length(self, ctx: ModerationContext) -> int:
        if "counting.length" not in ctx.memo:
            self.work += 1
            ctx.memo["counting.length"] = len(ctx.normalized.words)
        return int(ctx.memo["counting.length"])

    def prepare(self, ctx: ModerationContext) -> None:
        if self.broken_prepare:
            raise RuntimeError("prepare down")
        self._length(ctx)

    def run(self, ctx: ModerationContext) -> PhaseResult:
        return PhaseResult(scores={"words": float(self._length(ctx))})


def test_prepared_work_is_reused_by_a_later_context_of_the_same_text(stores: ModerationBackends) -> None:
    text = "Die Regierung hat das Budget für die Schulen wirklich falsch berechnet, leider"
    counting = _Counting()
    pipeline = Pipeline([counting, *default_phases()])
    draft = make_ctx(text, account_id=None)  # no author, no stores: what the API knows before the lock
    memo = pipeline.prepare(draft)
    assert counting.work == 1
    assert memo["normalized"].original == text
    real = make_ctx(text, stores=stores, name="Anna Huber")
    prepared = ModerationContext(
        **{
            **{
                f: getattr(real, f)
                for f in ("text", "source", "author", "thread", "policy", "now", "backends")
            },
            "memo": memo,
        }
    )
    decision = pipeline.run(prepared)
    assert counting.work == 1  # the run used the prepared value
    fresh = Pipeline([_Counting(), *default_phases()]).run(make_ctx(text, stores=stores, name="Anna Huber"))
    assert (decision.verdict, decision.reasons, decision.scores) == (
        fresh.verdict,
        fresh.reasons,
        fresh.scores,
    )
    assert decision.scores["words"] == len(memo["normalized"].words)
    # a phase's latency is what it spent in prepare and in run together
    run = next(r for r in decision.runs if r.phase == "counting")
    assert run.seconds >= memo["pipeline.prepared_seconds"]["counting"]


def test_a_failing_prepare_is_left_to_the_run() -> None:
    counting = _Counting(broken_prepare=True)
    pipeline = Pipeline([counting])
    ctx = make_ctx("Hallo Welt")
    pipeline.prepare(ctx)
    assert counting.work == 0
    decision = pipeline.run(ctx)
    assert counting.work == 1
    assert decision.failed_phases == []
    assert decision.scores == {"words": 2.0}


def test_a_prepared_normalization_of_another_text_is_not_used() -> None:
    memo = Pipeline([]).prepare(make_ctx("erster Text"))
    memo["normalized"] = make_ctx("erster Text").normalized
    ctx = ModerationContext(
        **{
            **{
                f: getattr(make_ctx("zweiter"), f)
                for f in ("text", "source", "author", "thread", "policy", "now")
            },
            "memo": memo,
        }
    )
    assert ctx.normalized.original == "zweiter"
