"""What is limited, and how much: rules written ``N/period`` in the settings.

``"10/5m"`` is ten requests in any five minutes (periods: ``s``, ``m``, ``h``, ``d``; a bare
number is seconds). Each :class:`Action` (a door) has one or two rules, each counted under its own
subject: an account, a keyed hash of the e-mail address tried, or the keyed hash of the client's
address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.config import Settings

_RULE_RE = re.compile(r"^\s*(\d{1,7})\s*/\s*(\d{1,7})\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` requests in any ``window`` seconds, counted per subject under ``name``."""

    name: str
    limit: int
    window: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a rate rule needs a limit of at least 1 and a positive window")


def parse_rule(name: str, text: str) -> Rule:
    """``"10/5m"`` → ``Rule(name, 10, 300.0)``; raises :class:`ValueError` for anything else."""
    m = _RULE_RE.match(text)
    if m is None:
        raise ValueError(f"a rate limit is written N/period, e.g. 10/5m (got {text!r})")
    window = int(m.group(2)) * _UNIT[m.group(3)]
    return Rule(name, int(m.group(1)), float(window))


class Action(StrEnum):
    """The doors with a limit of their own (posting is the moderation rate phase's)."""

    LOGIN = "login"
    REGISTER = "register"
    VOTE = "vote"
    REPORT = "report"
    APPEAL = "appeal"
    SSO = "sso"
    GUEST = "guest"


class Subject(StrEnum):
    """What a rule counts under."""

    ACCOUNT = "account"  # the account (or, for reports, the reporter: account, else address)
    EMAIL = "email"  # keyed hash of the e-mail address a login tries
    IP = "ip"  # keyed hash of the client's address (see parley.security.client_ip)


RuleSet = dict["Action", tuple[tuple["Subject", Rule], ...]]


def rules_for(settings: Settings) -> RuleSet:
    """Every door's rules, from the settings (validated there, so this cannot fail at runtime)."""
    s = settings
    return {
        Action.LOGIN: (
            (Subject.EMAIL, parse_rule("login", s.rate_limit_login)),
            (Subject.IP, parse_rule("login_ip", s.rate_limit_login_ip)),
        ),
        Action.REGISTER: (
            (Subject.IP, parse_rule("register_ip", s.rate_limit_register_ip)),
            (Subject.EMAIL, parse_rule("register_email", s.rate_limit_register_email)),
        ),
        Action.VOTE: ((Subject.ACCOUNT, parse_rule("vote", s.rate_limit_vote)),),
        Action.REPORT: ((Subject.ACCOUNT, parse_rule("report", s.rate_limit_report)),),
        Action.APPEAL: ((Subject.ACCOUNT, parse_rule("appeal", s.rate_limit_appeal)),),
        Action.SSO: ((Subject.IP, parse_rule("sso_ip", s.rate_limit_sso_ip)),),
        Action.GUEST: ((Subject.IP, parse_rule("guest_ip", s.rate_limit_guest_ip)),),
    }
