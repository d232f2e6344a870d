"""Per-site settings, stored as JSON on the site row and validated by this model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from parley.moderation.policy import ModerationPolicy


class CallToAction(BaseModel):
    """The publisher's slot above the comments (e.g. a donation appeal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field("", max_length=200)
    text: str = Field("", max_length=1000)
    link: HttpUrl | None = None
    button: str = Field("", max_length=80)


class SiteSettings(BaseModel):
    """Everything a publisher tunes per site. Defaults are right for a new site. Frozen: a site's
    validated settings are shared (``Site.policy``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guests_allowed: bool = Field(True, description="Readers may comment without an account.")
    auto_create_threads: bool = Field(True, description="The first comment on an unknown key creates it.")
    edit_window_seconds: int = Field(900, ge=0, le=30 * 86400, description="How long authors may edit.")
    close_after_days: int | None = Field(None, ge=1, le=3650, description="Close threads after N days.")
    reply_depth: int = Field(4, ge=1, le=32, description="Indent replies up to this depth in the widget.")
    cta: CallToAction | None = None
    locale: str = Field("de", pattern="^(de|en)$", description="Language of the site's texts.")
    erasure: Literal["anonymize", "remove"] = Field(
        "anonymize",
        description="When a reader deletes their account: keep their comments without name "
        "(anonymize) or remove their text and leave a tombstone (remove).",
    )
    moderation: ModerationPolicy = Field(default_factory=ModerationPolicy)
    sso_key_id: str | None = Field(
        None,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="The id (JWT 'kid') of the site's SSO key. A token that names a key must name this "
        "one; a token naming a key while none is set here is refused.",
    )
