"""Write audit events. Callers pass ids and codes only — never e-mail addresses, IPs or bodies.

An event is inserted when it is recorded, without the ORM's flush (:func:`~parley.db.stored.add_as_stored`;
:func:`do_audit_later` defers it with the unit's other writes):
every comment the pipeline holds is audited inside SQLite's writers' lock, where the unit of work's
flush of the one new row cost more than the statement (~0.3 ms a held POST, profiled). Pending
objects of the session are flushed first, as for any statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent
from parley.db.stored import add_as_stored, add_later


def _values(
    *,
    action: str,
    object_type: str,
    object_id: int | None,
    now: datetime,
    site_id: int | None = None,
    actor_kind: str = "system",
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data or {},
        "created_at": now,
    }


def do_audit(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: int | None,
    now: datetime,
    site_id: int | None = None,
    actor_kind: str = "system",
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    values = _values(
        action=action, object_type=object_type, object_id=object_id, now=now, site_id=site_id,
        actor_kind=actor_kind, actor_id=actor_id, data=data,
    )  # fmt: skip
    return add_as_stored(session, AuditEvent, values)


def do_audit_later(session: Session, **event: Any) -> None:
    """:func:`do_audit` (the same keyword arguments) for an event nobody reads back in the unit: its
    INSERT waits with the unit's other deferred writes (:func:`~parley.db.stored.add_later`) — on
    PostgreSQL a held POST then still writes in one statement, where the event's ``RETURNING id``
    sent the waiting writes, a ``BEGIN`` and the event in round trips of their own."""
    add_later(session, AuditEvent, _values(**event))
