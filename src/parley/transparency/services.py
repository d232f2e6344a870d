"""Count a period's notices, decisions, appeals and sanctions — the fields of a DSA Art. 15/24 report.

The figures come from the same rows the workspace writes (reports, moderation decisions, appeals,
sanctions), read in streaming batches with only the columns needed, so a year of a big site does not
need the year in memory. Times are medians in seconds (``None`` when nothing was measured).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.appeals.models import Appeal
from parley.comments.models import Report
from parley.moderation.models import ModerationDecision
from parley.sites.models import Site
from parley.workspace.models import Sanction

RESTRICTING = ("held", "rejected")


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[k], 1)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def build_report(
    session: Session, start: datetime, end: datetime, site_ids: list[int] | None = None
) -> dict[str, Any]:
    """The report for ``[start, end)``; ``site_ids`` None: every site."""

    def scoped(stmt: Any, created: Any, site: Any) -> Any:
        stmt = stmt.where(created >= start, created < end)
        return stmt.where(site.in_(site_ids)) if site_ids is not None else stmt

    # notices (Art. 15(1)(b), 16)
    by_reason: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    notice_times: list[float] = []
    good_faith = 0
    stmt = scoped(
        select(
            Report.reason,
            Report.status,
            Report.outcome,
            Report.created_at,
            Report.resolved_at,
            Report.good_faith,
        ),
        Report.created_at,
        Report.site_id,
    )
    for reason, status, outcome, created, resolved, faith in session.execute(
        stmt.execution_options(yield_per=2000)
    ):
        by_reason[reason] += 1
        outcomes[outcome or status] += 1
        good_faith += bool(faith)
        if resolved is not None:
            notice_times.append((resolved - created).total_seconds())

    # decisions (Art. 15(1)(c), (e))
    decisions_by_reason: Counter[str] = Counter()
    by_actor: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    automated_detection = 0
    held_at: dict[int, datetime] = {}
    decision_times: list[float] = []
    auto_holds_reversed = 0
    auto_restrictions = 0
    per_moderator: Counter[int] = Counter()
    cols = select(
        ModerationDecision.comment_id,
        ModerationDecision.actor_kind,
        ModerationDecision.actor_id,
        ModerationDecision.status_before,
        ModerationDecision.status_after,
        ModerationDecision.reasons,
        ModerationDecision.reason_code,
        ModerationDecision.trigger,
        ModerationDecision.created_at,
    ).order_by(ModerationDecision.id)
    stmt = scoped(cols, ModerationDecision.created_at, ModerationDecision.site_id)
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        human = row.actor_kind != "system"
        if row.status_after in RESTRICTING and row.status_after != row.status_before:
            by_status[row.status_after] += 1
            by_actor["human" if human else "automated"] += 1
            if human:
                decisions_by_reason[row.reason_code or "other"] += 1
            else:
                auto_restrictions += 1
                codes = {r.get("code") for r in row.reasons or [] if r.get("verdict", "hold") != "publish"}
                for code in codes:
                    decisions_by_reason[str(code)] += 1
                if codes:
                    automated_detection += 1
        if not human and row.status_after == "held":
            held_at.setdefault(row.comment_id, row.created_at)
        if human:
            if row.actor_id is not None and row.trigger != "undo":
                per_moderator[int(row.actor_id)] += 1
            since = held_at.pop(row.comment_id, None)
            if since is not None:
                decision_times.append((row.created_at - since).total_seconds())
                if row.status_after == "published":
                    auto_holds_reversed += 1

    # complaints (Art. 15(1)(d), 20)
    appeal_counts: Counter[str] = Counter()
    appeal_times: list[float] = []
    stmt = scoped(
        select(Appeal.status, Appeal.created_at, Appeal.decided_at), Appeal.created_at, Appeal.site_id
    )
    for status, created, decided in session.execute(stmt):
        appeal_counts[status] += 1
        if decided is not None:
            appeal_times.append((decided - created).total_seconds())

    # account restrictions (Art. 15(1)(c), 24(1)(b))
    sanctions: Counter[str] = Counter()
    for (kind,) in session.execute(scoped(select(Sanction.kind), Sanction.created_at, Sanction.site_id)):
        sanctions[kind] += 1

    names = dict(session.execute(select(Site.id, Site.slug)).all())
    return {
        "period": {"from": _iso(start), "to": _iso(end)},
        "sites": [names[i] for i in site_ids if i in names]
        if site_ids is not None
        else sorted(names.values()),
        "notices": {
            "total": sum(by_reason.values()),
            "by_reason": dict(sorted(by_reason.items())),
            "by_outcome": dict(sorted(outcomes.items())),
            "with_good_faith_statement": good_faith,
            "from_trusted_flaggers": 0,
            "median_seconds_to_action": _median(notice_times),
        },
        "decisions": {
            "restrictions": sum(by_status.values()),
            "by_type": dict(sorted(by_status.items())),
            "by_reason": dict(sorted(decisions_by_reason.items())),
            "automated": by_actor.get("automated", 0),
            "human": by_actor.get("human", 0),
            "automated_detection": automated_detection,
            "automated_holds_released_by_people": auto_holds_reversed,
            "automated_restrictions": auto_restrictions,
            "median_seconds_to_decision": _median(decision_times),
            "p90_seconds_to_decision": _percentile(decision_times, 0.9),
            "by_moderator": {str(k): v for k, v in sorted(per_moderator.items())},
        },
        "appeals": {
            "received": sum(appeal_counts.values()),
            "reversed": appeal_counts.get("reversed", 0),
            "upheld": appeal_counts.get("upheld", 0),
            "open": appeal_counts.get("open", 0),
            "median_seconds_to_decision": _median(appeal_times),
        },
        "sanctions": {
            "warnings": sanctions.get("warning", 0),
            "suspensions": sanctions.get("suspension", 0),
            "bans": sanctions.get("ban", 0),
            "always_premoderate": sanctions.get("premoderate", 0),
            "lifted": sanctions.get("lifted", 0),
        },
    }


def flatten(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(section, field, value)`` rows for CSV: nested counters become ``by_reason.insult`` fields."""
    rows: list[tuple[str, str, str]] = []
    for section, values in report.items():
        if not isinstance(values, dict):
            rows.append(("report", section, ";".join(values) if isinstance(values, list) else str(values)))
            continue
        for key, value in values.items():
            if isinstance(value, dict):
                for sub, n in value.items():
                    rows.append((section, f"{key}.{sub}", str(n)))
            else:
                rows.append((section, key, "" if value is None else str(value)))
    return rows


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "field", "value"])
    writer.writerows(flatten(report))
    return out.getvalue()
