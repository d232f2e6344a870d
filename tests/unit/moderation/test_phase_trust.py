from __future__ import annotations

import pytest

from parley.moderation.backends import ModerationBackends, author_key
from parley.moderation.context import AuthorInfo
from parley.moderation.phases.trust import TrustPhase
from parley.moderation.types import Verdict

from .helpers import make_ctx, policy


@pytest.mark.parametrize(
    ("status", "code"), [("suspended", "account_suspended"), ("banned", "account_banned")]
)
def test_suspended_and_banned_accounts_are_refused(status: str, code: str) -> None:
    result = TrustPhase().run(make_ctx("Hallo", status=status))
    assert result.verdict is Verdict.REJECT
    assert result.refusal is not None
    assert (result.refusal.error_code, result.refusal.status) == (code, 403)
    assert result.reasons[0].code == code


def test_always_premoderated_accounts_are_held() -> None:
    result = TrustPhase().run(make_ctx("Hallo", always_premoderate=True))
    assert (result.verdict, result.reasons[0].code) == (Verdict.HOLD, "always_premoderate")


def test_new_author_premoderation_is_off_by_default(stores: ModerationBackends) -> None:
    assert TrustPhase().run(make_ctx("Hallo", stores=stores)).reasons == ()


def test_first_n_comments_of_an_author_are_held(stores: ModerationBackends) -> None:
    pol = policy(trust={"premoderate_first": 2})
    key = author_key(AuthorInfo(account_id=1, name=""))
    assert TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons[0].code == "new_author"
    stores.history.record(key, Verdict.HOLD)
    stores.history.record(key, Verdict.REJECT)  # rejected comments do not count toward trust
    reason = TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons[0]
    assert reason.params == {"limit": 2, "count": 1}
    assert reason.detail == "The first 2 comments of a new account are checked by a moderator first."
    stores.history.record(key, Verdict.PUBLISH)
    assert TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons == ()
    # verified accounts and staff skip it
    assert (
        TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol, account_id=9, verified=True)).reasons == ()
    )
    assert (
        TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol, account_id=9, role="admin")).reasons == ()
    )


def test_a_high_recent_rejection_rate_holds(stores: ModerationBackends) -> None:
    pol = policy(trust={"rejection_rate": 0.5, "rejection_min_comments": 4, "rejection_window": 6})
    key = author_key(AuthorInfo(account_id=1, name=""))
    for verdict in (Verdict.REJECT, Verdict.REJECT, Verdict.PUBLISH):
        stores.history.record(key, verdict)
    assert TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons == ()  # too few yet
    stores.history.record(key, Verdict.PUBLISH)
    reason = TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons[0]
    assert (reason.code, reason.params) == ("low_trust", {"rejected": 2, "total": 4})
    for _ in range(5):
        stores.history.record(key, Verdict.PUBLISH)  # the window moves on
    assert TrustPhase().run(make_ctx("Hallo", stores=stores, pol=pol)).reasons == ()
