"""API models of notifications."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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

    ids: list[int] | None = Field(None, max_length=500, description="Ids to mark read; omit for all.")


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
