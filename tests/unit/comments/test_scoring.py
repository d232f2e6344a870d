"""The Wilson score lower bound behind sort=best."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from parley.comments.scoring import wilson_lower_bound


def test_no_votes_is_zero() -> None:
    assert wilson_lower_bound(0, 0) == 0.0


def test_known_values() -> None:
    # 95 % interval, z = 1.96: textbook values
    assert math.isclose(wilson_lower_bound(1, 0), 0.2065, abs_tol=1e-4)
    assert math.isclose(wilson_lower_bound(10, 1), 0.6226, abs_tol=1e-4)
    assert math.isclose(wilson_lower_bound(5, 5), 0.2366, abs_tol=1e-4)
    assert math.isclose(wilson_lower_bound(0, 3), 0.0, abs_tol=1e-12)


def test_more_evidence_for_the_same_share_ranks_higher() -> None:
    assert wilson_lower_bound(100, 10) > wilson_lower_bound(10, 1) > wilson_lower_bound(1, 0) > 0


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_bounded_by_zero_and_the_observed_share(up: int, down: int) -> None:
    score = wilson_lower_bound(up, down)
    assert 0.0 <= score <= 1.0
    if up + down:
        assert score <= up / (up + down) + 1e-12


@given(st.integers(0, 1000), st.integers(0, 1000))
def test_an_up_vote_never_lowers_and_a_down_vote_never_raises(up: int, down: int) -> None:
    assert wilson_lower_bound(up + 1, down) >= wilson_lower_bound(up, down) - 1e-12
    assert wilson_lower_bound(up, down + 1) <= wilson_lower_bound(up, down) + 1e-12
