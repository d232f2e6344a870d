"""API models of statements of reasons and appeals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from parley.web.inputs import ApiInput


class GroundsOut(BaseModel):
    type: Literal["terms_of_service", "illegal_content"]
    reference: str
    explanation: str


class StatementReasonOut(BaseModel):
    phase: str
    code: str
    detail: str


class RedressOut(BaseModel):
    appeal_url: str
    deadline: str


class StatementOut(BaseModel):
    """A statement of reasons (DSA Art. 17), in the author's language."""

    id: str
    comment_id: int | None
    decision: str = Field(description="held | rejected | suspended | banned | premoderated")
    facts: str
    grounds: GroundsOut
    automated_detection: bool
    automated_decision: bool
    reasons: list[StatementReasonOut]
    created_at: str
    redress: RedressOut


class AppealIn(ApiInput):
    text: str = Field(..., max_length=5000, description="Why the decision is wrong, in your words.")


class AppealOut(BaseModel):
    id: int
    status: Literal["open", "upheld", "reversed"]
    created_at: str
    decided_at: str | None = None
    outcome_reason: str | None = None
    statement_url: str


class SanctionOut(BaseModel):
    id: int
    kind: Literal["warning", "suspension", "ban", "premoderate", "lifted"]
    reason_code: str
    reason: str
    note: str | None
    until: str | None
    created_at: str
    statement_url: str | None


class MySanctionsOut(BaseModel):
    """Your account's standing and every sanction, as moderators see them (no shadow bans)."""

    status: str
    suspended_until: str | None
    always_premoderate: bool
    sanctions: list[SanctionOut]


class MyReportOut(BaseModel):
    id: int
    comment_id: int
    reason: str
    status: str
    outcome: str | None
    created_at: str
    resolved_at: str | None


class MyReportsOut(BaseModel):
    """Your reports and what came of them (DSA Art. 16(5))."""

    reports: list[MyReportOut]
