"""Write audit events. Callers pass ids and codes only — never e-mail addresses, IPs or bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent


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
    event = AuditEvent(
        site_id=site_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        created_at=now,
    )
    session.add(event)
    return event
