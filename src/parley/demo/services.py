"""Load the demo site, article thread and comments (idempotent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.models import Account, AccountKind
from parley.accounts.names import MAX_IMPORTED_LENGTH
from parley.accounts.services import do_create_account
from parley.comments import rendering
from parley.comments.models import Comment, Thread
from parley.comments.scoring import wilson_lower_bound
from parley.comments.services import do_insert_comment
from parley.comments.threads import do_get_or_create_thread
from parley.sites.models import Site
from parley.sites.services import do_create_site, normalize_origin


@cache
def demo_data() -> dict[str, Any]:
    raw = (resources.files("parley.demo") / "article.de.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


@dataclass(frozen=True, slots=True)
class DemoResult:
    site_id: int
    thread_key: str
    created: bool
    comments: int


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def do_load_demo(session: Session, now: datetime, public_url: str) -> DemoResult:
    data = demo_data()
    slug = data["site"]["slug"]
    key = data["thread"]["key"]
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        origins = [
            o for o in {normalize_origin(public_url), "http://127.0.0.1:8000", "http://localhost:8000"} if o
        ]
        site = do_create_site(
            session,
            slug=slug,
            name=data["site"]["name"],
            now=now,
            allowed_origins=sorted(origins),
            settings={"locale": data["site"]["locale"], "cta": data["cta"]},
        )
    existing = session.scalar(select(Thread).where(Thread.site_id == site.id, Thread.key == key))
    if existing is not None and existing.comment_count > 0:
        return DemoResult(site.id, key, False, existing.comment_count)
    thread = do_get_or_create_thread(
        session, site, key, _ts(data["thread"]["published"]), title=data["thread"]["title"], url=public_url
    )
    by_ref: dict[str, Comment] = {}
    for item in data["comments"]:
        author = session.scalar(select(Account).where(Account.display_name == item["name"]))
        if author is None:
            author = do_create_account(
                session,
                name=item["name"],
                now=_ts(item["at"]),
                kind=AccountKind.IMPORTED,
                home_site_id=site.id,
                max_name_length=MAX_IMPORTED_LENGTH,
            )
        body = rendering.render(rendering.normalize_source(item["body"]))
        comment = do_insert_comment(
            session,
            site=site,
            thread=thread,
            parent=by_ref.get(item.get("parent", "")),
            author=author,
            body=body,
            status="published",
            now=_ts(item["at"]),
            ip_hash=None,
        )
        comment.up, comment.down = item["up"], item["down"]
        comment.score = item["up"] - item["down"]
        comment.wilson = wilson_lower_bound(item["up"], item["down"])
        by_ref[item["ref"]] = comment
    session.flush()
    session.refresh(thread)
    return DemoResult(site.id, key, True, thread.comment_count)
