"""Health (per phase), workload, the audit log with its exports, and the transparency report."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import String, cast, false, func, select

from parley.accounts.models import Account
from parley.audit.export import csv_lines, iter_events, jsonl_lines
from parley.audit.models import AuditEvent
from parley.moderation.models import ModerationDecision
from parley.transparency.services import build_report, to_csv
from parley.web.responses import JSONResponse
from parley.workspace import queues
from parley.workspace.access import Moderator, access_site_by_slug, require_moderator
from parley.workspace.views.common import Ctx, make_router, page

router = make_router()
Site = Annotated[str | None, Query(max_length=64)]


def _site_ids(session: Any, moderator: Moderator, slug: str | None) -> list[int] | None:
    if slug:
        return [access_site_by_slug(session, moderator, slug).id]
    return sorted(moderator.site_ids) if moderator.site_ids is not None else None


def _day(value: str | None, default: date) -> datetime:
    try:
        d = date.fromisoformat(value) if value else default
    except ValueError:
        d = default
    return datetime.combine(d, time.min, tzinfo=UTC)


def failed_holds(session: Any, site_ids: list[int] | None, since: datetime) -> int:
    """Decisions since ``since`` that held a comment because a detector failed (all instances)."""
    stmt = select(func.count(ModerationDecision.id)).where(
        ModerationDecision.created_at >= since,
        ModerationDecision.status_after == "held",
        ModerationDecision.actor_kind == "system",
        cast(ModerationDecision.reasons, String).like("%phase\\_failed%", escape="\\"),
    )
    if site_ids is not None:
        stmt = stmt.where(ModerationDecision.site_id.in_(site_ids))
    return int(session.scalar(stmt) or 0)


@router.get("/health")
def health(ctx: Ctx) -> Response:
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site_ids = _site_ids(session, moderator, None)
        phases = ctx.registry.metrics.phase_health(ctx.registry.pipeline.phase_names)
        failed = {
            "day": failed_holds(session, site_ids, ctx.now - timedelta(days=1)),
            "week": failed_holds(session, site_ids, ctx.now - timedelta(days=7)),
        }
        return page(ctx, session, moderator, "health.html", active="health", phases=phases, failed=failed)


@router.get("/workload")
def workload(ctx: Ctx, site: Site = None, days: Annotated[int, Query(ge=1, le=366)] = 7) -> Response:
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site_ids = _site_ids(session, moderator, site)
        end = ctx.now + timedelta(seconds=1)
        report = build_report(session, end - timedelta(days=days), end, site_ids)
        by_moderator = report["decisions"]["by_moderator"]
        names = (
            dict(
                session.execute(
                    select(Account.id, Account.display_name).where(
                        Account.id.in_([int(k) for k in by_moderator])
                    )
                ).all()
            )
            if by_moderator
            else {}
        )
        return page(
            ctx,
            session,
            moderator,
            "workload.html",
            active="workload",
            sizes_now=queues.queue_sizes(session, moderator),
            report=report,
            names=names,
            days=days,
            site_slug=site or "",
        )


@router.get("/transparency")
def transparency(
    ctx: Ctx,
    site: Site = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    format: Annotated[str, Query(pattern="^(html|json|csv)$")] = "html",
) -> Response:
    """The DSA Art. 15/24 figures for a period (default: the last 30 days), also as JSON and CSV."""
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site_ids = _site_ids(session, moderator, site)
        today = ctx.now.date()
        begin = _day(start, today - timedelta(days=30))
        finish = _day(end, today) + timedelta(days=1)
        report = build_report(session, begin, finish, site_ids)
        if format == "json":
            return JSONResponse(
                report, headers={"Content-Disposition": 'attachment; filename="transparency.json"'}
            )
        if format == "csv":
            return Response(
                to_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="transparency.csv"'},
            )
        return page(
            ctx,
            session,
            moderator,
            "transparency.html",
            active="transparency",
            report=report,
            start=begin.date().isoformat(),
            end=(finish - timedelta(days=1)).date().isoformat(),
            site_slug=site or "",
        )


ACTION_RE = re.compile(r"^[a-z0-9_.:-]{1,64}$")


@router.get("/audit")
def audit(
    ctx: Ctx, site: Site = None, action: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The latest audit events (who or which phase, what, when, why)."""
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site_ids = _site_ids(session, moderator, site)
        stmt = select(AuditEvent)
        if site_ids is not None:
            stmt = stmt.where(AuditEvent.site_id.in_(site_ids))
        if action:
            # actions are dotted codes ("comment.approve"); anything else names none (and a NUL in a
            # compared value is an error on PostgreSQL, not "no match")
            stmt = stmt.where(AuditEvent.action == action) if ACTION_RE.match(action) else stmt.where(false())
        events = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(200)))
        actor_ids = {e.actor_id for e in events if e.actor_id}
        names = (
            dict(
                session.execute(
                    select(Account.id, Account.display_name).where(Account.id.in_(actor_ids))
                ).all()
            )
            if actor_ids
            else {}
        )
        return page(
            ctx,
            session,
            moderator,
            "audit.html",
            active="audit",
            events=events,
            names=names,
            site_slug=site or "",
            action=action or "",
        )


@router.get("/audit/export.{fmt}")
def audit_export(
    ctx: Ctx,
    fmt: Annotated[str, Path(pattern="^(jsonl|csv)$")],
    site: Site = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    """The audit log as JSON Lines or CSV (streamed; no e-mail or IP addresses)."""
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site_ids = _site_ids(session, moderator, site)
    begin = _day(start, date(1970, 1, 1)) if start else None
    finish = _day(end, ctx.now.date()) + timedelta(days=1) if end else None
    db = ctx.registry.db

    def stream() -> Any:
        with db.read() as s:
            records = iter_events(s, start=begin, end=finish, site_ids=site_ids)
            yield from (
                jsonl_lines(records) if fmt == "jsonl" else (line.encode() for line in csv_lines(records))
            )

    media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(
        stream(), media_type=media, headers={"Content-Disposition": f'attachment; filename="audit.{fmt}"'}
    )
