"""The event bus seam. Views publish after their transaction commits; the SSE endpoint subscribes.

Implementations: :class:`NullBus` (no live updates), :class:`parley.live.memory.LocalBus` for one
instance, and a Redis pub/sub bus when ``PARLEY_REDIS_URL`` is set (scale-out). Events carry ids
and counts only, never comment bodies: a reader fetches what an event announces through the
normal, moderated API.

Publishing happens on request worker threads (the views are sync); subscribing happens on the event
loop (the SSE endpoint is async). An implementation must be safe across that boundary.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("parley.live")

# The kinds a reader may hear about. Anything else published on the bus stays on the server.
PUBLIC_KINDS = frozenset({"comment.published", "comment.updated", "comment.removed", "vote.changed"})
# The data fields a reader may see: ids and counts, never bodies, names or statuses.
PUBLIC_FIELDS = ("id", "parent_id", "up", "down")


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    site_id: int
    thread_id: int
    kind: str  # comment.published | comment.updated | comment.removed | vote.changed
    data: dict[str, Any] = field(default_factory=dict)

    def public_data(self) -> dict[str, Any]:
        return {k: self.data[k] for k in PUBLIC_FIELDS if k in self.data}


def encode_event(event: ThreadEvent) -> str:
    """An event as the shared buses carry it between processes (JSON)."""
    return json.dumps(
        {"s": event.site_id, "t": event.thread_id, "k": event.kind, "d": event.data}, separators=(",", ":")
    )


def decode_event(raw: str | bytes) -> ThreadEvent:
    obj = json.loads(raw)
    return ThreadEvent(site_id=int(obj["s"]), thread_id=int(obj["t"]), kind=str(obj["k"]), data=obj["d"])


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event as one subscriber receives it. ``lost`` means events were dropped before this one
    (a slow reader overflowed its queue, or its Last-Event-ID is too old to replay): reload."""

    event_id: str
    event: ThreadEvent | None
    lost: bool = False


class TooManySubscribers(Exception):
    """The process holds as many live connections as it is configured for."""


class Subscription(Protocol):
    async def next(self, timeout: float) -> Delivery | None:
        """The next delivery, or None when ``timeout`` seconds pass without one."""

    def close(self) -> None:
        """Stop receiving; idempotent."""


class EventBus(Protocol):
    def publish(self, event: ThreadEvent) -> None:
        """Called from request threads after commit; must not block."""

    def subscribe(self, site_id: int, thread_id: int, last_event_id: str | None = None) -> Subscription:
        """Called on the event loop. Replays what followed ``last_event_id`` when still known.

        Raises :class:`TooManySubscribers` when the process is full.
        """

    def close(self) -> None:
        """Release resources at shutdown."""


class _NullSubscription:
    async def next(self, timeout: float) -> Delivery | None:
        import asyncio

        await asyncio.sleep(timeout)
        return None

    def close(self) -> None:
        return None


class NullBus:
    """No live updates: publishing is free, subscribers only ever hear heartbeats."""

    def publish(self, event: ThreadEvent) -> None:
        return None

    def subscribe(self, site_id: int, thread_id: int, last_event_id: str | None = None) -> Subscription:
        return _NullSubscription()

    def close(self) -> None:
        return None
