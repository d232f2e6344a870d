"""The one place domain events leave a write path: :func:`do_emit`.

Write paths in ``parley.comments`` (and appeals, later) call it inside their unit of work. It hands
the event to each listener — webhook fan-out and notifications — which only *enqueue* work (delivery
rows, jobs, notification rows) in the same transaction: nothing is sent in the request path, and an
event of a rolled-back change is never delivered.

Event data carries ids and public facts only (no bodies, e-mail addresses or IP hashes); a receiver
that wants the text fetches it through the API, where moderation applies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

# Kinds a webhook can subscribe to (the public contract; docs/operations.md lists them).
WEBHOOK_EVENTS: tuple[str, ...] = (
    "comment.created",
    "comment.updated",
    "comment.published",
    "comment.rejected",
    "vote.changed",
    "report.created",
    "appeal.created",
    "appeal.decided",
)
# Emitted for listeners inside Parley only (notifications), never sent to webhooks.
INTERNAL_EVENTS: tuple[str, ...] = ("comment.held",)

Listener = Callable[[Session, int, str, dict[str, Any], datetime], None]


def _listeners() -> tuple[Listener, ...]:
    # imported here: comments → events → listeners → comments would be an import cycle at load time
    from parley.notifications.events import on_event as notify
    from parley.webhooks.dispatch import on_event as fan_out

    return (fan_out, notify)


def do_emit(session: Session, *, site_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    """Record that ``kind`` happened on ``site_id``. Precondition: inside the write unit of work that
    made the change, after it is flushed (ids exist)."""
    if kind not in WEBHOOK_EVENTS and kind not in INTERNAL_EVENTS:
        raise ValueError(f"unknown event kind {kind!r}")
    for listener in _listeners():
        listener(session, site_id, kind, data, now)


def comment_data(session: Session, comment: Any, thread: Any = None) -> dict[str, Any]:
    """Public facts of a comment for event payloads: ids, no body, e-mail or IP hash — and no author
    name either, so an erased author's name does not linger in delivery logs and notifications.
    ``thread``: the comment's thread (its ``key`` and ``url``), if the caller has it at hand."""
    from parley.comments.models import Thread

    if thread is None or thread.id != comment.thread_id:
        thread = session.get(Thread, comment.thread_id)
    return {
        "comment_id": comment.id,
        "parent_id": comment.parent_id,
        "thread_id": comment.thread_id,
        "thread_key": thread.key if thread else None,
        "thread_url": thread.url if thread else None,
        "status": comment.status,
        "author_id": comment.author_id,
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
    }
