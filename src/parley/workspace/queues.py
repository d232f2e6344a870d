"""The queues: held, reported, appeals, copy waves, recently published — with filters and orders.

Every query is bounded (a page of at most :data:`PAGE` cards; the score order ranks at most
:data:`RANK_WINDOW` candidates) and limited to the sites the moderator may see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy import Select, String, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from parley.appeals.models import Appeal, AppealStatus
from parley.comments.models import Comment, CommentStatus, Report
from parley.moderation.models import ModerationDecision
from parley.workspace.access import Moderator
from parley.workspace.cards import wave_of

PAGE = 50
RANK_WINDOW = 1000
WAVE_WINDOW = 2000
CODE_RE = re.compile(r"^[a-z_]{1,64}$")


class Queue(StrEnum):
    HELD = "held"
    REPORTED = "reported"
    APPEALS = "appeals"
    WAVES = "waves"
    PUBLISHED = "published"


class Order(StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    SCORE = "score"


@dataclass(frozen=True, slots=True)
class Filters:
    site_id: int | None = None
    thread_id: int | None = None
    reason: str | None = None
    author_id: int | None = None
    order: Order = Order.OLDEST
    page: int = 0

    def as_query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.thread_id:
            out["story"] = str(self.thread_id)
        if self.reason:
            out["reason"] = self.reason
        if self.author_id:
            out["author"] = str(self.author_id)
        if self.order is not Order.OLDEST:
            out["order"] = self.order.value
        return out


def _like_literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scoped(stmt: Select[Comment], moderator: Moderator, f: Filters) -> Select[Comment]:
    if moderator.site_ids is not None:
        stmt = stmt.where(Comment.site_id.in_(sorted(moderator.site_ids)))
    if f.site_id is not None:
        stmt = stmt.where(Comment.site_id == f.site_id)
    if f.thread_id is not None:
        stmt = stmt.where(Comment.thread_id == f.thread_id)
    if f.author_id is not None:
        stmt = stmt.where(Comment.author_id == f.author_id)
    if f.reason and CODE_RE.match(f.reason):
        pattern = f'%"code": "{_like_literal(f.reason)}"%'
        compact = f'%"code":"{_like_literal(f.reason)}"%'
        text = cast(ModerationDecision.reasons, String)
        stmt = stmt.where(
            exists().where(
                ModerationDecision.comment_id == Comment.id,
                or_(text.like(pattern, escape="\\"), text.like(compact, escape="\\")),
            )
        )
    return stmt


@dataclass
class QueuePage:
    comments: list[Comment] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    waves: list[Wave] = field(default_factory=list)
    has_more: bool = False


@dataclass
class Wave:
    wave_id: int
    site_id: int
    held: list[Comment]
    original: Comment | None = None


def held_queue(session: Session, moderator: Moderator, f: Filters) -> QueuePage:
    stmt = _scoped(select(Comment).where(Comment.status == CommentStatus.HELD.value), moderator, f)
    return _page(session, stmt, f, Comment.created_at)


def reported_queue(session: Session, moderator: Moderator, f: Filters) -> QueuePage:
    open_report = exists().where(Report.comment_id == Comment.id, Report.status == "open")
    stmt = _scoped(
        select(Comment).where(
            Comment.status == CommentStatus.PUBLISHED.value, Comment.report_count > 0, open_report
        ),
        moderator,
        f,
    )
    return _page(session, stmt, f, Comment.created_at)


def published_queue(session: Session, moderator: Moderator, f: Filters) -> QueuePage:
    stmt = _scoped(select(Comment).where(Comment.status == CommentStatus.PUBLISHED.value), moderator, f)
    newest_first = replace(f, order=Order.NEWEST) if f.order is Order.OLDEST else f
    return _page(session, stmt, newest_first, Comment.created_at)


def _page(session: Session, stmt: Select[Comment], f: Filters, when: object) -> QueuePage:
    offset = max(0, min(f.page, RANK_WINDOW // PAGE)) * PAGE
    if f.order is Order.SCORE:
        from parley.workspace.cards import latest_decisions

        candidates = list(session.scalars(stmt.order_by(Comment.created_at, Comment.id).limit(RANK_WINDOW)))
        decisions = latest_decisions(session, [c.id for c in candidates])

        def rank(c: Comment) -> float:
            d = decisions.get(c.id)
            top = max((float(v) for v in (d.scores or {}).values()), default=0.0) if d else 0.0
            return -(top + 0.1 * c.report_count + 0.01 * len(d.reasons or []) if d else 0.1 * c.report_count)

        candidates.sort(key=rank)
        chosen = candidates[offset : offset + PAGE + 1]
    else:
        ordering = (
            (Comment.created_at.desc(), Comment.id.desc())
            if f.order is Order.NEWEST
            else (Comment.created_at, Comment.id)
        )
        chosen = list(session.scalars(stmt.order_by(*ordering).offset(offset).limit(PAGE + 1)))
    return QueuePage(comments=chosen[:PAGE], has_more=len(chosen) > PAGE)


def appeals_queue(session: Session, moderator: Moderator, f: Filters) -> QueuePage:
    stmt = select(Appeal).where(Appeal.status == AppealStatus.OPEN.value)
    if moderator.site_ids is not None:
        stmt = stmt.where(Appeal.site_id.in_(sorted(moderator.site_ids)))
    if f.site_id is not None:
        stmt = stmt.where(Appeal.site_id == f.site_id)
    if f.author_id is not None:
        stmt = stmt.where(Appeal.author_id == f.author_id)
    ordering = Appeal.created_at.desc() if f.order is Order.NEWEST else Appeal.created_at
    rows = list(session.scalars(stmt.order_by(ordering, Appeal.id).offset(f.page * PAGE).limit(PAGE + 1)))
    page = QueuePage(appeals=rows[:PAGE], has_more=len(rows) > PAGE)
    ids = [a.comment_id for a in page.appeals if a.comment_id]
    page.comments = list(session.scalars(select(Comment).where(Comment.id.in_(ids)))) if ids else []
    return page


def waves_queue(session: Session, moderator: Moderator, f: Filters) -> QueuePage:
    """Held copies grouped by copy wave (the id of the wave's first comment), biggest first."""
    stmt = _scoped(select(Comment).where(Comment.status == CommentStatus.HELD.value), moderator, f)
    held = list(session.scalars(stmt.order_by(Comment.created_at, Comment.id).limit(WAVE_WINDOW)))
    groups: dict[int, list[Comment]] = {}
    for c in held:
        w = wave_of(c)
        if w is not None:
            groups.setdefault(w, []).append(c)
    originals = (
        {o.id: o for o in session.scalars(select(Comment).where(Comment.id.in_(list(groups))))}
        if groups
        else {}
    )
    waves = [
        Wave(wave_id=w, site_id=members[0].site_id, held=members, original=originals.get(w))
        for w, members in groups.items()
        if originals.get(w) is None or originals[w].site_id == members[0].site_id
    ]
    waves.sort(key=lambda w: (-len(w.held), w.wave_id))
    return QueuePage(
        waves=waves[f.page * PAGE : (f.page + 1) * PAGE], has_more=len(waves) > (f.page + 1) * PAGE
    )


def wave_members(session: Session, moderator: Moderator, wave_id: int) -> list[Comment]:
    """The held comments of one copy wave, on the moderator's sites."""
    page = waves_queue(session, moderator, Filters())
    for w in page.waves:
        if w.wave_id == wave_id:
            return w.held
    return []


def queue_sizes(session: Session, moderator: Moderator) -> dict[str, int]:
    def scoped_count(stmt: Select[int]) -> int:
        if moderator.site_ids is not None:
            stmt = stmt.where(Comment.site_id.in_(sorted(moderator.site_ids)))
        return int(session.scalar(stmt) or 0)

    held = scoped_count(select(func.count(Comment.id)).where(Comment.status == CommentStatus.HELD.value))
    open_report = exists().where(Report.comment_id == Comment.id, Report.status == "open")
    reported = scoped_count(
        select(func.count(Comment.id)).where(
            Comment.status == CommentStatus.PUBLISHED.value, Comment.report_count > 0, open_report
        )
    )
    appeals_stmt = select(func.count(Appeal.id)).where(Appeal.status == AppealStatus.OPEN.value)
    if moderator.site_ids is not None:
        appeals_stmt = appeals_stmt.where(Appeal.site_id.in_(sorted(moderator.site_ids)))
    appeals = int(session.scalar(appeals_stmt) or 0)
    waves = len(waves_queue(session, moderator, Filters()).waves)
    return {"held": held, "reported": reported, "appeals": appeals, "waves": waves}
