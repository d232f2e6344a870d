"""Enqueue jobs inside the caller's transaction (so work is never lost nor done for a rolled-back
change), and claim and run them in workers with exponential backoff.

Handlers register by kind with :func:`handler`. A handler receives the :class:`JobContext` and the
payload; raising retries the job later, :class:`PermanentFailure` gives up at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.jobs.models import Job, JobStatus

log = logging.getLogger("parley.jobs")

LEASE = timedelta(minutes=5)  # a claimed job whose worker died is picked up again after this


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (e.g. a webhook target was deleted)."""


@dataclass
class JobContext:
    registry: Any  # parley.registry.Registry (not imported: jobs sit below the registry)
    job_id: int
    attempt: int


Handler = Callable[[JobContext, dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


@functools.cache
def load_handlers() -> None:
    """Import every domain's ``jobs`` module, so handlers are registered in any process that runs
    jobs (the app's worker thread, ``parley worker``, tests), not only where a view imported them."""
    import importlib
    import pkgutil

    import parley

    for mod in pkgutil.walk_packages(parley.__path__, "parley."):
        if mod.name.endswith(".jobs") and mod.name != "parley.jobs":
            importlib.import_module(mod.name)


def do_enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    delay: float = 0,
    max_attempts: int = 8,
    dedupe_key: str | None = None,
) -> Job | None:
    """Add a job in the current transaction. With ``dedupe_key``, a second enqueue is a no-op."""
    job = Job(
        kind=kind,
        payload=payload,
        run_at=now + timedelta(seconds=delay),
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(job)
        session.flush()
        return job
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        return None
    return job


def backoff(attempt: int) -> timedelta:
    """5 s, 20 s, 80 s, … capped at 6 hours."""
    return timedelta(seconds=min(6 * 3600, 5 * 4 ** max(0, attempt - 1)))


def claim(session: Session, now: datetime, limit: int) -> list[Job]:
    """Take up to ``limit`` due jobs. PostgreSQL skips rows other workers hold; SQLite's write
    transaction is exclusive already."""
    due = (Job.status == JobStatus.PENDING.value) | (
        (Job.status == JobStatus.RUNNING.value) & (Job.locked_until < now)
    )
    stmt = select(Job).where(due, Job.run_at <= now).order_by(Job.run_at, Job.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    jobs = list(session.scalars(stmt))
    for job in jobs:
        job.status = JobStatus.RUNNING.value
        job.locked_until = now + LEASE
        job.attempts += 1
    session.flush()
    return jobs


def do_finish(session: Session, job_id: int, now: datetime) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.DONE.value, finished_at=now, locked_until=None, last_error=None)
    )


def do_fail(session: Session, job_id: int, now: datetime, error: str, permanent: bool) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    job.last_error = error[:500]
    job.locked_until = None
    if permanent or job.attempts >= job.max_attempts:
        job.status = JobStatus.DEAD.value
        job.finished_at = now
    else:
        job.status = JobStatus.PENDING.value
        job.run_at = now + backoff(job.attempts)
    session.flush()


def run_due(registry: Any, limit: int = 20) -> int:
    """Claim and run due jobs once; returns how many ran. Each job commits on its own."""
    load_handlers()
    db = registry.db
    with db.write() as session:
        claimed = [
            (j.id, j.kind, dict(j.payload), j.attempts) for j in claim(session, registry.clock.now(), limit)
        ]
    for job_id, kind, payload, attempt in claimed:
        fn = _HANDLERS.get(kind)
        error: str | None = None
        permanent = False
        if fn is None:
            error, permanent = f"no handler for job kind {kind!r}", True
        else:
            try:
                fn(JobContext(registry, job_id, attempt), payload)
            except PermanentFailure as exc:
                error, permanent = f"{type(exc).__name__}: {exc}", True
            except Exception as exc:  # a failing job is retried, never crashes the worker
                error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
                log.warning("job %s (%s) attempt %s failed: %s", job_id, kind, attempt, type(exc).__name__)
        with db.write() as session:
            if error is None:
                do_finish(session, job_id, registry.clock.now())
            else:
                do_fail(session, job_id, registry.clock.now(), error, permanent)
    return len(claimed)
