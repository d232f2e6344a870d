"""The notifications listener of :func:`parley.webhooks.events.do_emit`.

- ``comment.published`` of a reply: an in-widget notification for the parent's author (not for a
  reply to oneself), and a reply mail when they opted in. The mail job is deduplicated per reply,
  so a reply that is held, published, held again and published again mails once.
- ``comment.rejected``, and ``comment.held`` after being visible: the author is told why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.notifications import services
from parley.notifications.models import NotificationKind


def on_event(session: Session, site_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    if kind == "comment.published" and data.get("parent_id"):
        _on_reply(session, site_id, data, now)
    elif kind in ("comment.rejected", "comment.held"):
        services.do_notify_decision(session, comment_id=int(data["comment_id"]), now=now)


def _on_reply(session: Session, site_id: int, data: dict[str, Any], now: datetime) -> None:
    from parley.comments.models import Comment

    parent = session.get(Comment, int(data["parent_id"]))
    if parent is None or parent.author_id is None or parent.author_id == data.get("author_id"):
        return
    comment_id = int(data["comment_id"])
    services.do_add_notification(
        session,
        account_id=parent.author_id,
        site_id=site_id,
        kind=NotificationKind.REPLY,
        data={
            "comment_id": comment_id,
            "parent_id": parent.id,
            "thread_key": data.get("thread_key"),
            "thread_url": data.get("thread_url"),
        },
        now=now,
    )
    if services.preferences(session, parent.author_id).reply_emails:
        services.do_queue_mail(
            session,
            "reply",
            parent.author_id,
            now,
            params={"comment_id": comment_id},
            dedupe_key=f"mail:reply:{comment_id}",
        )
