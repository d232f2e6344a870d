"""API request and response models of the comments domain (separate from the ORM models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.comments.models import ReportReason
from parley.web.inputs import MAX_ID, ApiInput


class _In(ApiInput):
    model_config = ConfigDict(extra="forbid", str_max_length=100_000)


class CommentCreate(_In):
    body: str = Field(..., description="Markdown source (a small subset: emphasis, links, quotes, lists).")
    parent_id: int | None = Field(None, ge=1, le=MAX_ID, description="Reply to this comment.")
    author_name: str | None = Field(None, max_length=200, description="Guest name (when not logged in).")
    email: str | None = Field(None, max_length=320, description="Guest e-mail (optional, never shown).")
    title: str | None = Field(None, max_length=500, description="Article title, for a new thread.")
    url: str | None = Field(None, max_length=2048, description="Article URL, for a new thread.")


class CommentPatch(_In):
    body: str


class VoteIn(_In):
    value: Literal[-1, 0, 1]


class ReportIn(_In):
    reason: ReportReason
    detail: str = Field("", max_length=4000, description="What is wrong with the comment (explanation).")
    contact: str | None = Field(None, max_length=320, description="How to tell you the outcome (optional).")
    good_faith: bool = Field(False, description="I confirm this notice is accurate and made in good faith.")


class AuthorOut(BaseModel):
    name: str
    verified: bool
    role: str
    guest: bool


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    depth: int
    author: AuthorOut | None
    html: str
    status: Literal["published", "held", "rejected", "deleted"]
    deleted: bool
    featured: bool
    mine: bool = Field(False, description="The viewer wrote it (and may edit it within the window).")
    created_at: str
    edited_at: str | None
    up: int
    down: int
    my_vote: Literal[-1, 0, 1]
    reply_count: int
    descendant_count: int
    replies: list[CommentOut]
    replies_cursor: str | None = None
    reasons: list[ReasonOut] | None = None
    statement_url: str | None = None
    source: str | None = Field(
        None, description="Markdown source; only for its author, on GET /comments/{id}."
    )


class ReasonOut(BaseModel):
    phase: str
    code: str
    detail: str


class ThreadOut(BaseModel):
    key: str
    title: str
    url: str
    status: Literal["open", "closed"]
    comment_count: int


class CallToActionOut(BaseModel):
    title: str
    text: str
    link: str | None
    button: str


class SiteOut(BaseModel):
    slug: str
    name: str
    guests_allowed: bool
    edit_window_seconds: int
    reply_depth: int
    locale: str
    sso: bool
    cta: CallToActionOut | None


class ListingOut(BaseModel):
    thread: ThreadOut
    site: SiteOut
    comments: list[CommentOut]
    next_cursor: str | None
    own_pending: list[CommentOut] = []


class RepliesOut(BaseModel):
    comments: list[CommentOut]
    next_cursor: str | None


class GuestSessionOut(BaseModel):
    """The session a guest gets with their first comment (also set as the session cookie)."""

    token: str
    csrf_token: str
    account_id: int
    name: str


class CreatedOut(BaseModel):
    comment: CommentOut
    reasons: list[ReasonOut]
    statement_url: str | None
    session: GuestSessionOut | None = None


class VoteOut(BaseModel):
    id: int
    up: int
    down: int
    my_vote: Literal[-1, 0, 1]


class ReportOut(BaseModel):
    id: int
    status: str


class CountsOut(BaseModel):
    counts: dict[str, int]


CommentOut.model_rebuild()
