"""Rate rules as the settings write them, and the sliding-window arithmetic."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.config import Settings
from parley.ratelimit import Action, RateLimits, Subject, parse_rule, rules_for
from parley.ratelimit.interfaces import admits, retry_after


@pytest.mark.parametrize(
    ("text", "limit", "window"),
    [("10/5m", 10, 300), ("3/20", 3, 20), ("1/1h", 1, 3600), (" 7 / 2d ", 7, 172800), ("5/30s", 5, 30)],
)
def test_rules_are_written_n_per_period(text: str, limit: int, window: float) -> None:
    rule = parse_rule("x", text)
    assert (rule.limit, rule.window) == (limit, window)


@pytest.mark.parametrize("text", ["", "10", "10/", "/5m", "0/5m", "10/0", "10/5y", "-1/5m", "ten/5m"])
def test_anything_else_is_refused_when_the_settings_load(text: str) -> None:
    with pytest.raises(ValidationError):
        Settings(rate_limit_login=text)


def test_every_door_has_rules_from_the_settings() -> None:
    rules = rules_for(Settings(rate_limit_vote="7/1m", rate_limit_login_ip="99/1h"))
    assert set(rules) == set(Action)
    assert [(s, r.limit, r.window) for s, r in rules[Action.VOTE]] == [(Subject.ACCOUNT, 7, 60)]
    assert (Subject.IP, 99, 3600.0) in [(s, r.limit, r.window) for s, r in rules[Action.LOGIN]]


def test_switched_off_limits_admit_everything() -> None:
    limits = RateLimits.from_settings(Settings(rate_limits_enabled=False, rate_limit_vote="1/1h"))
    assert all(limits.check(Action.VOTE, {Subject.ACCOUNT: "1"}, 0.0).allowed for _ in range(50))


def test_unknown_subjects_are_not_counted() -> None:
    limits = RateLimits.from_settings(Settings(rate_limit_register_ip="1/1h"))
    assert all(limits.check(Action.REGISTER, {Subject.IP: None}, 0.0).allowed for _ in range(5))
    assert limits.check(Action.REGISTER, {Subject.IP: "h"}, 0.0).allowed
    refused = limits.check(Action.REGISTER, {Subject.IP: "h"}, 0.0)
    assert not refused.allowed
    assert refused.retry_after > 0


@pytest.mark.parametrize(
    ("previous", "current", "fraction"), [(0, 9, 0.1), (10, 0, 0.3), (6, 4, 0.5), (3, 10, 0.9), (10, 10, 0.0)]
)
def test_retry_after_lands_on_the_first_admitted_moment(previous: int, current: int, fraction: float) -> None:
    rule = parse_rule("r", "10/60")
    if admits(previous, current, fraction, rule.limit):
        assert retry_after(previous, current, fraction, rule) == 0
        return
    wait = retry_after(previous, current, fraction, rule)
    assert wait > 0

    def admitted_after(seconds: float) -> bool:
        f = fraction + seconds / 60
        if f < 1:
            return admits(previous, current, f, rule.limit)
        return admits(current, 0, f - 1, rule.limit)

    assert admitted_after(wait + 1e-6)
    assert not admitted_after(max(0.0, wait - 0.01))
