from __future__ import annotations

from datetime import timedelta

from parley.moderation.backends import ModerationBackends
from parley.moderation.phases.copies import CopiesPhase
from parley.moderation.pipeline import build_pipeline
from parley.moderation.services import do_record_outcome
from parley.moderation.types import Decision, Verdict

from .helpers import NOW, make_ctx, policy, seed_comments

ORIGINAL = seed_comments()[3]["text"]  # "Richtig so, nicht von den Amis einlullen lassen, …"
EDITED = ORIGINAL.replace("Richtig so", "Genau so").replace("langjährige", "alte")


def publish(
    stores: ModerationBackends, text: str, comment_id: int, account_id: int, **kw: object
) -> Decision:
    ctx = make_ctx(text, stores=stores, account_id=account_id, **kw)  # type: ignore[arg-type]
    decision = build_pipeline().run(ctx)
    do_record_outcome(ctx, decision, comment_id=comment_id)
    return decision


def test_copy_with_small_edits_by_another_account_is_held_with_the_original(
    stores: ModerationBackends,
) -> None:
    assert publish(stores, ORIGINAL, 101, account_id=1).verdict is Verdict.PUBLISH
    result = CopiesPhase().run(make_ctx(EDITED, stores=stores, account_id=2))
    (reason,) = result.reasons
    assert result.verdict is Verdict.HOLD
    assert reason.code == "copy_spam"
    assert reason.params["original_id"] == 101
    assert reason.evidence["wave_id"] == 101
    assert reason.evidence["similarity"] >= 0.8
    assert reason.detail == "Nearly the same as comment #101 by another account."
    assert "copy_wave:101" in result.tags


def test_the_same_author_repeating_is_a_repeat_post(stores: ModerationBackends) -> None:
    publish(stores, ORIGINAL, 101, account_id=1)
    (reason,) = CopiesPhase().run(make_ctx(EDITED, stores=stores, account_id=1)).reasons
    assert reason.code == "repeat_post"
    assert reason.params["original_id"] == 101


def test_a_wave_of_copies_points_at_the_first_comment(stores: ModerationBackends) -> None:
    publish(stores, ORIGINAL, 101, account_id=1)
    for account in (2, 3, 4):
        decision = publish(stores, EDITED, 200 + account, account_id=account)
        assert decision.verdict is Verdict.HOLD
        assert decision.reasons[0].evidence["wave_id"] == 101
    # a moderator approves one copy later: it joins the wave, later copies still name the original
    ctx = make_ctx(EDITED, stores=stores, account_id=5)
    wave = do_record_outcome(ctx, _published(build_pipeline().run(ctx)), comment_id=205)
    assert wave == 101
    assert stores.copies.wave_of("default", 205) == 101
    (reason,) = CopiesPhase().run(make_ctx(EDITED, stores=stores, account_id=6)).reasons
    assert reason.params["original_id"] == 101


def test_different_comments_short_comments_and_old_comments_are_no_copies(stores: ModerationBackends) -> None:
    seeds = seed_comments()
    for i, comment in enumerate(seeds):
        assert publish(stores, comment["text"], i, account_id=i + 1).verdict is Verdict.PUBLISH
    publish(stores, "Danke, sehr gut geschrieben!", 50, account_id=1)
    assert (
        CopiesPhase().run(make_ctx("Danke, sehr gut geschrieben!", stores=stores, account_id=2)).reasons == ()
    )
    later = NOW + timedelta(days=8)
    assert CopiesPhase().run(make_ctx(ORIGINAL, stores=stores, account_id=9, now=later)).reasons == ()
    pol = policy(copies={"window_seconds": 30 * 86400})
    assert CopiesPhase().run(make_ctx(ORIGINAL, stores=stores, account_id=9, now=later, pol=pol)).reasons


def test_an_edit_is_no_copy_of_itself(stores: ModerationBackends) -> None:
    publish(stores, ORIGINAL, 101, account_id=1)
    ctx = make_ctx(EDITED, stores=stores, account_id=1, is_edit=True, comment_id=101)
    assert CopiesPhase().run(ctx).reasons == ()


def test_disabled_or_without_stores_nothing_happens(stores: ModerationBackends) -> None:
    publish(stores, ORIGINAL, 101, account_id=1)
    off = policy(copies={"enabled": False})
    assert CopiesPhase().run(make_ctx(ORIGINAL, stores=stores, account_id=2, pol=off)).reasons == ()
    assert CopiesPhase().run(make_ctx(ORIGINAL, account_id=2)).reasons == ()


def test_held_and_rejected_comments_are_not_indexed(stores: ModerationBackends) -> None:
    pol = policy(terms={"suspect": ["Amis"]})
    assert publish(stores, ORIGINAL, 101, account_id=1, pol=pol).verdict is Verdict.HOLD
    assert CopiesPhase().run(make_ctx(ORIGINAL, stores=stores, account_id=2)).reasons == ()


def _published(decision: Decision) -> Decision:
    """The decision as a moderator's approval would record it."""
    return Decision(Verdict.PUBLISH, decision.reasons, decision.scores, decision.tags, decision.runs)
