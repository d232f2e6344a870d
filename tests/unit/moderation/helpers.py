"""Builders for moderation tests: a context with sensible defaults, the seed comments."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parley.moderation.backends import ModerationBackends
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.policy import ModerationPolicy

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data"


def policy(**sections: Any) -> ModerationPolicy:
    """``policy(terms={"banned": ["trottel"]})`` → a validated policy (as a site's TOML would give)."""
    return ModerationPolicy.model_validate(sections)


def make_ctx(
    text: str,
    *,
    pol: ModerationPolicy | None = None,
    stores: ModerationBackends | None = None,
    account_id: int | None = 1,
    name: str = "",
    role: str = "commenter",
    status: str = "active",
    verified: bool = False,
    always_premoderate: bool = False,
    ip_hash: str | None = None,
    session_key: str | None = None,
    thread: str = "t1",
    is_open: bool = True,
    premoderate: bool | None = None,
    now: datetime = NOW,
    timed: bool = True,
    links: tuple[str, ...] = (),
    is_edit: bool = False,
    comment_id: int | None = None,
    report_count: int = 0,
    site_name: str = "",
) -> ModerationContext:
    return ModerationContext(
        text=text,
        source=text,
        author=AuthorInfo(
            account_id=account_id,
            name=name,
            is_guest=account_id is None,
            role=role,
            status=status,
            verified=verified,
            always_premoderate=always_premoderate,
            ip_hash=ip_hash,
            session_key=session_key,
        ),
        thread=ThreadInfo(id=1, key=thread, site_id=1, is_open=is_open, premoderate=premoderate),
        policy=pol or ModerationPolicy(),
        now=now,
        site_name=site_name,
        links=links,
        is_edit=is_edit,
        comment_id=comment_id,
        backends=stores,
        timed=timed,
        report_count=report_count,
    )


def seed_comments() -> list[dict[str, Any]]:
    """The six comments of the seed article (names and texts verbatim)."""
    data: dict[str, Any] = json.loads((DATA / "seed_comments.json").read_text(encoding="utf-8"))
    comments: list[dict[str, Any]] = data["comments"]
    return comments
