"""Write audit events. Callers pass ids and codes only — never e-mail addresses, IPs or bodies.

An event is inserted when it is recorded, without the ORM's flush (:func:`~parley.db.stored.add_as_stored`;
:func:`do_audit_later` defers it with the unit's other writes):
every comment the pipeline holds is audited inside SQLite's writers' lock, where the unit of work's
flush of the one new row cost more than the statement (~0.3 ms a held POST, profiled). Pending
objects of the session are flushed first, as for any statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent
from parley.db.stored import add_as_stored, add_later


class Event(TypedDict):
    """What an audit event records (the keyword arguments of :func:`do_audit`)."""

    action: str
    object_type: str
    object_id: int | None
    now: datetime
    site_id: NotRequired[int | None]
    actor_kind: NotRequired[str]  # "system" unless given
    actor_id: NotRequired[int | None]
    data: NotRequired[dict[str, Any] | None]


def _values(event: Event) -> dict[str, Any]:
    return {
        "site_id": event.get("site_id"),
        "actor_kind": event.get("actor_kind", "system"),
        "actor_id": event.get("actor_id"),
        "action": event["action"],
        "object_type": event["object_type"],
        "object_id": event["object_id"],
        "data": event.get("data") or {},
        "created_at": event["now"],
    }


def do_audit(session: Session, **event: Unpack[Event]) -> AuditEvent:
    return add_as_stored(session, AuditEvent, _values(event))


def do_audit_later(session: Session, **event: Unpack[Event]) -> None:
    """:func:`do_audit` for an event nobody reads back in the unit: its INSERT waits with the
    unit's other deferred writes (:func:`~parley.db.stored.add_later`) — on PostgreSQL a held POST
    then still writes in one statement, where the event's ``RETURNING id`` sent the waiting writes,
    a ``BEGIN`` and the event in round trips of their own."""
    add_later(session, AuditEvent, _values(event))
