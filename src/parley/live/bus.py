"""The event bus seam. Views publish after their transaction commits; the SSE endpoint subscribes.

Implementations: :class:`NullBus` (no live updates), an in-process bus for one instance, and a
Redis pub/sub bus when ``PARLEY_REDIS_URL`` is set (scale-out). Events carry ids and counts only,
never comment bodies: a reader fetches what an event announces through the normal, moderated API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    site_id: int
    thread_id: int
    kind: str  # comment.published | comment.updated | comment.removed | vote.changed
    data: dict[str, Any] = field(default_factory=dict)


class EventBus(Protocol):
    def publish(self, event: ThreadEvent) -> None:
        """Called from request threads after commit; must not block."""


class NullBus:
    def publish(self, event: ThreadEvent) -> None:
        return None
