"""Export the audit log as JSON Lines or CSV, streaming, with personal data kept out.

Audit events hold ids and codes only (see :func:`parley.audit.services.do_audit`). The export
checks that again on the way out: a ``data`` key that names an address (``email``, ``ip`` …) is
dropped and any value that looks like an e-mail address or an IP address is masked, so a careless
caller can never leak one through an export.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.audit.models import AuditEvent

FIELDS = (
    "id",
    "created_at",
    "site_id",
    "actor_kind",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "data",
)
_PERSONAL_KEYS = re.compile(r"(e-?mail|^ip$|_ip$|^ip_|address|password|token)", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s@\"',;<>]+@[^\s@\"',;<>]+\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])")
MASK = "[redacted]"


def _mask_ip(match: re.Match[str]) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return MASK


def scrub(value: Any, depth: int = 0) -> Any:
    """``value`` without e-mail addresses, IP addresses or fields named after them."""
    if depth > 16:
        return None
    if isinstance(value, str):
        value = _EMAIL.sub(MASK, value)
        value = _IPV4.sub(_mask_ip, value)
        return _IPV6.sub(_mask_ip, value)
    if isinstance(value, dict):
        return {k: scrub(v, depth + 1) for k, v in value.items() if not _PERSONAL_KEYS.search(str(k))}
    if isinstance(value, list):
        return [scrub(v, depth + 1) for v in value]
    return value


def event_record(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "site_id": event.site_id,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": scrub(event.data or {}),
    }


def iter_events(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    site_ids: list[int] | None = None,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Events in id order, fetched in keyset batches (constant memory)."""
    last = 0
    while True:
        stmt = select(AuditEvent).where(AuditEvent.id > last)
        if start is not None:
            stmt = stmt.where(AuditEvent.created_at >= start)
        if end is not None:
            stmt = stmt.where(AuditEvent.created_at < end)
        if site_ids is not None:
            stmt = stmt.where(AuditEvent.site_id.in_(site_ids))
        rows = list(session.scalars(stmt.order_by(AuditEvent.id).limit(batch)))
        if not rows:
            return
        for event in rows:
            yield event_record(event)
        last = rows[-1].id
        session.expunge_all()


def jsonl_lines(records: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for rec in records:
        yield orjson.dumps(rec) + b"\n"


def csv_lines(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    yield buffer.getvalue()
    for rec in records:
        buffer.seek(0)
        buffer.truncate()
        row = [rec[f] for f in FIELDS[:-1]] + [orjson.dumps(rec["data"]).decode()]
        writer.writerow(["" if v is None else _csv_safe(v) for v in row])
        yield buffer.getvalue()


def _csv_safe(value: Any) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: prefix them with a quote."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
