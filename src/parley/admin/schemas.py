"""Admin API models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from parley.web.inputs import ApiInput


class _In(ApiInput):
    pass


class SiteIn(_In):
    slug: str = Field(..., max_length=64)
    name: str = Field(..., max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict)
    sso_secret: str | None = Field(
        None, min_length=32, max_length=256, description="HS256 secret (RFC 7518: at least 256 bits)."
    )
    sso_public_key: str | None = Field(None, max_length=16384)
    sso_issuer: str | None = Field(None, max_length=256)
    sso_audience: str | None = Field(None, max_length=256)


class SitePatch(_In):
    name: str | None = Field(None, max_length=200)
    allowed_origins: list[str] | None = Field(None, max_length=100)
    settings: dict[str, Any] | None = None
    sso_secret: str | None = Field(
        None, min_length=32, max_length=256, description="HS256 secret (RFC 7518: at least 256 bits)."
    )
    sso_public_key: str | None = Field(None, max_length=16384)
    sso_issuer: str | None = Field(None, max_length=256)
    sso_audience: str | None = Field(None, max_length=256)


class SiteAdminOut(BaseModel):
    id: int
    slug: str
    name: str
    allowed_origins: list[str]
    settings: dict[str, Any]
    sso: dict[str, Any]


class ThreadSettingsIn(_In):
    """A story's own settings: they override the site's for this thread only."""

    premoderate: bool | None = Field(
        None, description="Hold every comment (true), none (false), or as the site (null)."
    )
    heat: bool | None = Field(None, description="Heat mode: stricter thresholds and slower rate limits.")


class ThreadPatch(_In):
    title: str | None = Field(None, max_length=500)
    url: str | None = Field(None, max_length=2048)
    status: Literal["open", "closed"] | None = None
    settings: ThreadSettingsIn | None = None


class ThreadAdminOut(BaseModel):
    id: int
    key: str
    title: str
    url: str
    status: Literal["open", "closed"]
    stored_status: str
    closes_at: str | None
    comment_count: int
    settings: dict[str, Any]
