"""``Idempotency-Key``: the same key and body get the same answer; no second comment is made.

The key row is inserted in the same transaction as the comment. A concurrent request with the same
key waits on the unique index (PostgreSQL) or the write lock (SQLite) and then finds the answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.comments.errors import IdempotencyMismatch
from parley.comments.models import IdempotencyRecord
from parley.errors import ValidationFailed

MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    body: bytes


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(
            [{"field": "Idempotency-Key", "code": "invalid", "message": "1 to 255 printable characters"}]
        )
    return key


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def do_claim(
    session: Session, scope: str, key: str, req_hash: str, now: datetime
) -> Stored | IdempotencyRecord:
    """Claim ``key`` for this request, first thing in the transaction.

    Returns the stored answer when an earlier request with the key completed, else the new
    (empty) record to complete with :func:`do_complete`. A concurrent request holding the key makes
    the insert wait until it commits; then the insert fails and its answer is read.
    """
    existing = _find(session, scope, key)
    if existing is None:
        record = IdempotencyRecord(
            scope=scope, key=key, request_hash=req_hash, status_code=0, response="", created_at=now
        )
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
            return record
        except IntegrityError:
            existing = _find(session, scope, key)
            if existing is None:
                raise
    if existing.request_hash != req_hash:
        raise IdempotencyMismatch()
    return Stored(existing.status_code, existing.response.encode())


def do_complete(session: Session, record: IdempotencyRecord, status_code: int, body: bytes) -> None:
    record.status_code = status_code
    record.response = body.decode()
    session.flush()


def _find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
