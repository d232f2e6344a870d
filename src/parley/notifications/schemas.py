"""API models of notifications."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from parley.web.inputs import MAX_ID


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    data: dict[str, Any]
    created_at: str
    read: bool


class NotificationsOut(BaseModel):
    items: list[NotificationOut]
    unread_count: int


class MarkReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # bounded like every id (2^53): a larger one overflowed SQLite's INTEGER into a 500
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=500, description="Ids to mark read; omit for all."
    )


class UnreadOut(BaseModel):
    unread_count: int


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply_emails: bool | None = None
    decision_emails: bool | None = None
    digest_emails: bool | None = None
    locale: str | None = Field(None, pattern="^(de|en)$")


class PreferencesOut(BaseModel):
    reply_emails: bool
    decision_emails: bool
    digest_emails: bool
    locale: str | None
