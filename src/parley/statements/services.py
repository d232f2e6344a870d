"""Build a statement of reasons from a decision or a sanction, in the author's language.

The public shape (``GET /statements/{token}`` with ``Accept: application/json``)::

    {"id", "comment_id", "decision", "facts",
     "grounds": {"type", "reference", "explanation"},
     "automated_detection", "automated_decision",
     "reasons": [{"phase", "code", "detail"}], "created_at",
     "redress": {"appeal_url", "deadline"}}

``decision`` is ``held`` / ``rejected`` for a comment and ``suspended`` / ``banned`` /
``premoderated`` for an account. ``detail`` is the evidence in words a reader understands, rendered
from the reason's code and parameters (``parley.moderation.messages``), never raw detector output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date, format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from parley import i18n
from parley.accounts.models import Account
from parley.comments.models import Comment, Thread
from parley.errors import NotFound
from parley.moderation import messages
from parley.moderation.models import ModerationDecision
from parley.moderation.types import Reason
from parley.sites.models import Site
from parley.workspace.models import Sanction
from parley.workspace.reasons import GroundType, label_for, reason_for

MAX_TOKEN = 64

FACTS = {
    "held": 'Your comment of {date} on "{story}" is held back: other readers do not see it until a '
    "moderator has checked it.",
    "rejected": 'Your comment of {date} on "{story}" was removed: other readers do not see it.',
    "suspended": "Your account is suspended until {until}: you can read comments, but not write any.",
    "banned": "Your account is banned: you can read comments, but not write any.",
    "premoderated": "A moderator checks every comment of your account before other readers see it.",
}
_SANCTION_DECISION = {"suspension": "suspended", "ban": "banned", "premoderate": "premoderated"}
AUTOMATED_EXPLANATION = "Our automatic checks found the following."
RULES_REFERENCE = "{site}: community rules"
RULES_REFERENCE_ITEM = "{site}: community rules ({rule})"


@dataclass(frozen=True, slots=True)
class StatementSource:
    """What a statement token points at: a comment decision or a sanction."""

    token: str
    site: Site | None
    author: Account | None
    created_at: datetime
    decision: ModerationDecision | None = None
    comment: Comment | None = None
    sanction: Sanction | None = None

    @property
    def author_id(self) -> int | None:
        if self.sanction is not None:
            return self.sanction.account_id
        return self.comment.author_id if self.comment is not None else None


def find_statement(session: Session, token: str) -> StatementSource:
    """The decision or sanction behind ``token`` (404 when there is none)."""
    if not token or len(token) > MAX_TOKEN:
        raise NotFound()
    decision = session.scalar(select(ModerationDecision).where(ModerationDecision.statement_token == token))
    if decision is not None:
        comment = session.get(Comment, decision.comment_id)
        author = session.get(Account, comment.author_id) if comment and comment.author_id else None
        return StatementSource(
            token=token,
            site=session.get(Site, decision.site_id),
            author=author,
            created_at=decision.created_at,
            decision=decision,
            comment=comment,
        )
    sanction = session.scalar(select(Sanction).where(Sanction.statement_token == token))
    if sanction is None:
        raise NotFound()
    return StatementSource(
        token=token,
        site=session.get(Site, sanction.site_id) if sanction.site_id else None,
        author=session.get(Account, sanction.account_id) if sanction.account_id else None,
        created_at=sanction.created_at,
        sanction=sanction,
    )


def statement_locale(session: Session, source: StatementSource, requested: str | None) -> str:
    """The author's language: asked for, else the account's, else the site's."""
    site_locale = source.site.policy().locale if source.site is not None else None
    author_locale = source.author.locale if source.author is not None else None
    return i18n.negotiate([requested, author_locale, site_locale])


def appeal_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/statements/{token}/appeal"


def statement_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/statements/{token}"


def deadline(source: StatementSource, window_days: int) -> datetime:
    return source.created_at + timedelta(days=window_days)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _system_reasons(records: list[Any]) -> list[Reason]:
    """The reasons of a pipeline decision that restricted the comment (not the passing notes)."""
    out = []
    for rec in records or []:
        reason = Reason.from_record(rec)
        if reason.phase == "moderator" or reason.verdict.value == "publish":
            continue
        out.append(reason)
    return out


def _earlier_system_decision(session: Session, decision: ModerationDecision) -> ModerationDecision | None:
    return session.scalar(
        select(ModerationDecision)
        .where(
            ModerationDecision.comment_id == decision.comment_id,
            ModerationDecision.actor_kind == "system",
            ModerationDecision.id < decision.id,
        )
        .order_by(ModerationDecision.id.desc())
        .limit(1)
    )


def build_statement(
    session: Session, source: StatementSource, locale: str, *, public_url: str, window_days: int
) -> dict[str, Any]:
    """The statement in ``locale`` (the exact public fields, nothing else)."""
    site_name = source.site.name if source.site is not None else "Parley"
    reasons: list[dict[str, str]] = []
    explanation: list[str] = []
    ground = GroundType.TERMS
    rule_label: str | None = None
    law = ""
    automated_detection = False
    automated_decision = False
    comment_id: int | None = None
    facts_params: dict[str, Any] = {}
    if source.decision is not None:
        decision = source.decision
        comment_id = decision.comment_id
        kind = decision.status_after
        found = _system_reasons(decision.reasons)
        if decision.actor_kind == "system":
            automated_detection = bool(found)
            automated_decision = bool(decision.automated)
        else:
            earlier = _earlier_system_decision(session, decision)
            earlier_reasons = _system_reasons(earlier.reasons) if earlier is not None else []
            automated_detection = bool(earlier_reasons)
            found = earlier_reasons  # what the checks found, on which the person decided
        for reason in found:
            text = messages.render_reason(reason, locale)
            reasons.append({"phase": reason.phase, "code": reason.code, "detail": text})
        if found:
            explanation.append(i18n.gettext(locale, AUTOMATED_EXPLANATION))
            explanation.extend(r["detail"] for r in reasons)
        if decision.actor_kind != "system" and decision.reason_code:
            code = decision.reason_code
            rule = reason_for(code)
            label = i18n.gettext(locale, label_for(code))
            reasons.append({"phase": "moderator", "code": code, "detail": label})
            explanation.append(label + ".")
            if code not in ("approved", "undone"):
                ground, rule_label, law = rule.ground, label, rule.law
        if decision.note:
            explanation.append(decision.note)
        thread = session.get(Thread, source.comment.thread_id) if source.comment is not None else None
        facts_params = {
            "date": format_date(decision.created_at.date(), format="long", locale=locale),
            "story": (thread.title or thread.key) if thread is not None else "",
        }
    else:
        sanction = source.sanction
        assert sanction is not None
        kind = _SANCTION_DECISION.get(sanction.kind, sanction.kind)
        rule = reason_for(sanction.reason_code)
        label = i18n.gettext(locale, rule.label)
        ground, rule_label, law = rule.ground, label, rule.law
        reasons.append({"phase": "moderator", "code": sanction.reason_code, "detail": label})
        explanation.append(label + ".")
        if sanction.note:
            explanation.append(sanction.note)
        if sanction.until is not None:
            facts_params["until"] = format_datetime(sanction.until, format="long", locale=locale)
    if ground is GroundType.ILLEGAL and law:
        reference = law
    elif rule_label:
        reference = i18n.gettext(locale, RULES_REFERENCE_ITEM, {"site": site_name, "rule": rule_label})
    else:
        reference = i18n.gettext(locale, RULES_REFERENCE, {"site": site_name})
    return {
        "id": source.token,
        "comment_id": comment_id,
        "decision": kind,
        "facts": i18n.gettext(locale, FACTS.get(kind, FACTS["held"]), facts_params),
        "grounds": {"type": ground.value, "reference": reference, "explanation": " ".join(explanation)},
        "automated_detection": automated_detection,
        "automated_decision": automated_decision,
        "reasons": reasons,
        "created_at": iso(source.created_at),
        "redress": {
            "appeal_url": appeal_url(public_url, source.token),
            "deadline": iso(deadline(source, window_days)),
        },
    }
