"""Admin API models of webhooks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=2048)
    events: list[str] = Field(default_factory=lambda: ["*"], max_length=20)
    description: str = Field("", max_length=200)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: str | None
    last_success_at: str | None
    last_failure_at: str | None
    secret: str | None = None


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event: str
    status: str
    attempts: int
    response_status: int | None
    error: str | None
    duration_ms: int | None
    created_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
