from __future__ import annotations

from datetime import timedelta

from parley.moderation.backends import ModerationBackends
from parley.moderation.phases.rate import RatePhase, rate_keys
from parley.moderation.pipeline import build_pipeline
from parley.moderation.services import do_record_outcome, refusal_error
from parley.moderation.types import Decision, Verdict

from .helpers import NOW, make_ctx, policy

TEXT = "Ein ganz normaler Kommentar."


def post(stores: ModerationBackends, seconds: float, **kw: object) -> Decision:
    ctx = make_ctx(TEXT, stores=stores, now=NOW + timedelta(seconds=seconds), **kw)  # type: ignore[arg-type]
    decision = build_pipeline().run(ctx)
    do_record_outcome(ctx, decision, comment_id=f"c{seconds}")
    return decision


def test_flood_refuses_with_retry_after(stores: ModerationBackends) -> None:
    # default flood rule: 3 comments in 20 seconds
    for s in (0, 1, 2):
        assert post(stores, s).verdict is Verdict.PUBLISH
    decision = post(stores, 3)
    assert decision.verdict is Verdict.REJECT
    assert decision.refusal is not None
    assert decision.refusal.error_code == "rate_limited"
    assert decision.refusal.status == 429
    assert decision.refusal.params["retry_after"] == 17  # the comment at 0 s leaves the window at 20 s
    (reason,) = decision.reasons
    assert (reason.phase, reason.code) == ("rate", "flood")
    assert "try again in 17 seconds" in reason.detail
    error = refusal_error(decision.refusal)  # what the API answers
    assert (error.status, error.headers) == (429, {"Retry-After": "17"})
    # a refused comment is not counted, so the author can post once the window has moved on
    assert post(stores, 20.5).verdict is Verdict.PUBLISH


def test_rate_limit_over_a_longer_window(stores: ModerationBackends) -> None:
    pol = policy(rate={"flood": None, "rate": [{"max": 2, "per_seconds": 600}]})
    assert post(stores, 0, pol=pol).verdict is Verdict.PUBLISH
    assert post(stores, 100, pol=pol).verdict is Verdict.PUBLISH
    decision = post(stores, 200, pol=pol)
    assert decision.reasons[0].code == "rate_limited"
    assert decision.reasons[0].params == {"limit": 2, "seconds": 600, "retry_after": 400}


def test_limits_are_per_author_and_per_ip(stores: ModerationBackends) -> None:
    pol = policy(rate={"flood": {"max": 1, "per_seconds": 60}, "ip": [{"max": 2, "per_seconds": 60}]})
    assert post(stores, 0, pol=pol, account_id=1, ip_hash="h1").verdict is Verdict.PUBLISH
    assert post(stores, 1, pol=pol, account_id=2, ip_hash="h1").verdict is Verdict.PUBLISH
    third = post(stores, 2, pol=pol, account_id=3, ip_hash="h1")  # a third account behind the same address
    assert third.verdict is Verdict.REJECT
    assert third.reasons[0].code == "rate_limited"
    assert post(stores, 3, pol=pol, account_id=4, ip_hash="h2").verdict is Verdict.PUBLISH


def test_guest_sessions_are_counted_as_authors(stores: ModerationBackends) -> None:
    pol = policy(rate={"flood": {"max": 1, "per_seconds": 60}})
    assert post(stores, 0, pol=pol, account_id=None, session_key="s1").verdict is Verdict.PUBLISH
    assert post(stores, 1, pol=pol, account_id=None, session_key="s1").verdict is Verdict.REJECT
    assert post(stores, 2, pol=pol, account_id=None, session_key="s2").verdict is Verdict.PUBLISH


def test_a_flooded_story_holds_instead_of_refusing(stores: ModerationBackends) -> None:
    pol = policy(rate={"thread": {"max": 3, "per_seconds": 60}})
    for account in (1, 2, 3):
        assert post(stores, account, pol=pol, account_id=account).verdict is Verdict.PUBLISH
    decision = post(stores, 4, pol=pol, account_id=4)
    assert decision.verdict is Verdict.HOLD
    assert decision.reasons[0].code == "thread_flood"
    assert "thread_flood" in decision.tags
    assert post(stores, 5, pol=pol, account_id=5, thread="other").verdict is Verdict.PUBLISH


def test_untimed_comments_and_staff_are_not_limited(stores: ModerationBackends) -> None:
    for s in range(6):
        assert post(stores, s, timed=False).verdict is Verdict.PUBLISH
    for s in range(6):
        assert post(stores, 100 + s, role="moderator").verdict is Verdict.PUBLISH


def test_without_stores_the_phase_does_nothing() -> None:
    assert RatePhase().run(make_ctx(TEXT)).reasons == ()


def test_events_are_kept_only_while_limits_are_on(stores: ModerationBackends) -> None:
    # with the site's rate limits off nothing reads the events: none are stored
    off = policy(rate={"enabled": False})
    for s in (0, 1, 2, 3):
        assert post(stores, s, pol=off).verdict is Verdict.PUBLISH
    ctx = make_ctx(TEXT, stores=stores, now=NOW)
    assert all(stores.rates.recent(key, 0) == [] for key in rate_keys(ctx))
    # turned on, the limits count from then on: three more pass, the fourth is a flood
    for s in (4, 5, 6):
        assert post(stores, s).verdict is Verdict.PUBLISH
    assert post(stores, 7).verdict is Verdict.REJECT
