"""Write audit events. Callers pass ids and codes only — never e-mail addresses, IPs or bodies.

An event is inserted when it is recorded, without the ORM's flush (:func:`~parley.db.stored.add_as_stored`):
every comment the pipeline holds is audited inside SQLite's writers' lock, where the unit of work's
flush of the one new row cost more than the statement (~0.3 ms a held POST, profiled). Pending
objects of the session are flushed first, as for any statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent
from parley.db.stored import add_as_stored


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
    return add_as_stored(
        session,
        AuditEvent,
        {
            "site_id": site_id,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data or {},
            "created_at": now,
        },
    )
