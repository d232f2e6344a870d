"""Use cases of the moderation domain that other domains call: record a decision."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from parley.moderation.models import ModerationDecision
from parley.moderation.types import Decision, Verdict


def needs_statement(status_after: str) -> bool:
    """DSA Art. 17: every restriction (hold, rejection, removal) gets a statement of reasons."""
    return status_after in ("held", "rejected")


def do_record_decision(
    session: Session,
    *,
    site_id: int,
    comment_id: int,
    decision: Decision,
    status_before: str | None,
    status_after: str,
    now: datetime,
    trigger: str = "create",
) -> ModerationDecision:
    """Store the pipeline's decision with every reason, score and model version."""
    record = ModerationDecision(
        site_id=site_id,
        comment_id=comment_id,
        verdict=decision.verdict.value,
        status_before=status_before,
        status_after=status_after,
        reasons=[r.to_record() for r in decision.reasons],
        scores=dict(decision.scores),
        model_versions=dict(decision.model_versions),
        actor_kind="system",
        automated=True,
        trigger=trigger,
        statement_token=secrets.token_urlsafe(18) if needs_statement(status_after) else None,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return record


def status_for(verdict: Verdict) -> str:
    return {Verdict.PUBLISH: "published", Verdict.HOLD: "held", Verdict.REJECT: "rejected"}[verdict]
