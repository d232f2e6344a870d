"""The structural phases laid down with the pipeline interface: thread state, length, sanitize,
pre-moderation (one test class each)."""

from __future__ import annotations

from parley.moderation.phases.length import LengthPhase
from parley.moderation.phases.premoderation import PremoderationPhase
from parley.moderation.phases.sanitize import SanitizePhase
from parley.moderation.phases.thread_state import ThreadStatePhase
from parley.moderation.types import Verdict

from .helpers import make_ctx, policy


class TestThreadState:
    def test_closed_threads_refuse(self) -> None:
        result = ThreadStatePhase().run(make_ctx("Hallo", is_open=False))
        assert result.refusal is not None
        assert result.refusal.error_code == "thread_closed"
        assert ThreadStatePhase().run(make_ctx("Hallo")).reasons == ()


class TestLength:
    def test_too_long_and_too_short(self) -> None:
        pol = policy(max_length=10, min_length=3)
        long = LengthPhase().run(make_ctx("x" * 11, pol=pol))
        assert long.refusal is not None
        assert (long.reasons[0].code, long.reasons[0].params) == (
            "body_too_long",
            {"length": 11, "limit": 10},
        )
        assert LengthPhase().run(make_ctx("ab", pol=pol)).reasons[0].code == "body_too_short"
        assert LengthPhase().run(make_ctx("abc", pol=pol)).reasons == ()


class TestSanitize:
    def test_nothing_visible_is_refused(self) -> None:
        result = SanitizePhase().run(make_ctx("\u200b\u200b \u00ad"))
        assert result.verdict is Verdict.REJECT
        assert SanitizePhase().run(make_ctx("ok")).reasons == ()


class TestPremoderation:
    def test_site_and_story_premoderation_hold_but_not_staff(self) -> None:
        site = policy(premoderate_all=True)
        assert PremoderationPhase().run(make_ctx("Hallo", pol=site)).verdict is Verdict.HOLD
        assert PremoderationPhase().run(make_ctx("Hallo", pol=site, premoderate=False)).reasons == ()
        assert PremoderationPhase().run(make_ctx("Hallo", premoderate=True)).verdict is Verdict.HOLD
        assert PremoderationPhase().run(make_ctx("Hallo", pol=site, role="moderator")).reasons == ()
