"""The comment card and the actions on it: approve, reject, feature, bulk, copy wave, undo, appeals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path
from fastapi.responses import Response
from sqlalchemy import select

from parley.appeals import services as appeals
from parley.appeals.models import Appeal
from parley.comments.models import Comment, CommentStatus
from parley.errors import NotFound
from parley.live.bus import ThreadEvent
from parley.moderation.models import ModerationDecision
from parley.registry import Registry
from parley.workspace import actions, forms, queues
from parley.workspace.access import require_moderator
from parley.workspace.cards import build_cards
from parley.workspace.reasons import REASON_CODES, label_for
from parley.workspace.views.common import Ctx, fragment, make_router, page, workspace_locale

router = make_router()
CommentId = Annotated[int, Path(ge=1, le=2**53)]


def publish_changes(registry: Registry, changed: list[Comment]) -> None:
    """Tell live readers after commit: published comments appear, others disappear."""
    for c in changed:
        kind = "comment.published" if c.status == CommentStatus.PUBLISHED.value else "comment.removed"
        registry.events.publish(
            ThreadEvent(
                site_id=c.site_id,
                thread_id=c.thread_id,
                kind=kind,
                data={"id": c.id, "parent_id": c.parent_id},
            )
        )


def _access_comment(session: object, moderator: object, comment_id: int) -> Comment:
    from sqlalchemy.orm import Session

    from parley.workspace.access import Moderator

    assert isinstance(session, Session)
    assert isinstance(moderator, Moderator)
    comment = session.get(Comment, comment_id)
    if comment is None or not moderator.may_moderate(comment.site_id):
        raise NotFound()
    return comment


@router.get("/comments/{comment_id}")
def comment_page(ctx: Ctx, comment_id: CommentId) -> Response:
    """One comment with its evidence, the comment it answers, its history of decisions and its author."""
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        comment = _access_comment(session, moderator, comment_id)
        locale = workspace_locale(ctx.request)
        card = build_cards(session, [comment], locale, detail=True)[0]
        history = list(
            session.scalars(
                select(ModerationDecision)
                .where(ModerationDecision.comment_id == comment.id)
                .order_by(ModerationDecision.id)
                .limit(100)
            )
        )
        context = list(
            session.scalars(
                select(Comment)
                .where(
                    Comment.thread_id == comment.thread_id,
                    Comment.status == CommentStatus.PUBLISHED.value,
                    Comment.id != comment.id,
                    Comment.created_at <= comment.created_at,
                )
                .order_by(Comment.created_at.desc(), Comment.id.desc())
                .limit(3)
            )
        )
        return page(
            ctx,
            session,
            moderator,
            "comment.html",
            active="",
            card=card,
            history=history,
            context=list(reversed(context)),
            reject_codes=REASON_CODES,
            label_for=label_for,
        )


def _done(ctx: Ctx, outcome: actions.Outcome, message: str, comment_id: int | None = None) -> Response:
    response = fragment(ctx, "_done.html", message=message, count=outcome.count, comment_id=comment_id)
    response.headers["HX-Trigger"] = "parley:decided"
    return response


@router.post("/comments/{comment_id}/approve")
def approve(ctx: Ctx, comment_id: CommentId) -> Response:
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        comment = _access_comment(session, moderator, comment_id)
        outcome = actions.do_approve(session, comment, moderator, ctx.now)
    publish_changes(ctx.registry, outcome.changed)
    return _done(ctx, outcome, "Approved.", comment_id)


@router.post("/comments/{comment_id}/reject")
def reject(
    ctx: Ctx,
    comment_id: CommentId,
    reason_code: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        comment = _access_comment(session, moderator, comment_id)
        outcome = actions.do_reject(
            session,
            comment,
            moderator,
            forms.clean(reason_code, "reason_code", 64),
            forms.clean(note, "note"),
            ctx.now,
        )
    publish_changes(ctx.registry, outcome.changed)
    return _done(ctx, outcome, "Rejected.", comment_id)


@router.post("/comments/{comment_id}/feature")
def feature(ctx: Ctx, comment_id: CommentId, featured: Annotated[str, Form(max_length=5)] = "1") -> Response:
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        comment = _access_comment(session, moderator, comment_id)
        outcome = actions.do_feature(session, comment, moderator, featured == "1", ctx.now)
    return _done(ctx, outcome, "Featured." if featured == "1" else "No longer featured.", comment_id)


@router.post("/bulk")
def bulk(
    ctx: Ctx,
    ids: Annotated[list[str], Form(max_length=600)],
    action: Annotated[str, Form(pattern="^(approve|reject)$")],
    reason_code: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve or reject the selected comments in one step (undone together)."""
    wanted = forms.ids(ids)
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        comments = list(session.scalars(select(Comment).where(Comment.id.in_(wanted)).order_by(Comment.id)))
        if len(comments) != len(wanted) or any(not moderator.may_moderate(c.site_id) for c in comments):
            raise NotFound()
        outcome = actions.do_bulk(
            session,
            comments,
            moderator,
            approve=action == "approve",
            reason_code=forms.clean(reason_code, "reason_code", 64),
            note=forms.clean(note, "note"),
            now=ctx.now,
        )
    publish_changes(ctx.registry, outcome.changed)
    response = _done(ctx, outcome, "Approved." if action == "approve" else "Rejected.")
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/waves/{wave_id}/{action}")
def wave(
    ctx: Ctx,
    wave_id: CommentId,
    action: Annotated[str, Path(pattern="^(approve|reject)$")],
    reason_code: Annotated[str, Form(max_length=64)] = "copy_spam",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Act on every held comment of a copy wave at once."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        members = queues.wave_members(session, moderator, wave_id)
        if not members:
            raise NotFound()
        outcome = actions.do_bulk(
            session,
            members,
            moderator,
            approve=action == "approve",
            reason_code=forms.clean(reason_code, "reason_code", 64),
            note=forms.clean(note, "note"),
            now=ctx.now,
            wave_id=wave_id,
        )
    publish_changes(ctx.registry, outcome.changed)
    response = _done(ctx, outcome, "Approved." if action == "approve" else "Rejected.")
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/undo")
def undo(ctx: Ctx) -> Response:
    """Take back your last action (comments someone decided again since stay as they are)."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        outcome = actions.do_undo(session, moderator, ctx.now)
    publish_changes(ctx.registry, outcome.changed)
    response = _done(ctx, outcome, "Undone.")
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/appeals/{appeal_id}/decide")
def decide_appeal(
    ctx: Ctx,
    appeal_id: CommentId,
    outcome: Annotated[str, Form(pattern="^(uphold|reverse)$")],
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Decide an appeal: someone other than the moderator who decided; the author is told why."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        appeal = session.get(Appeal, appeal_id)
        if appeal is None or not moderator.may_moderate(appeal.site_id):
            raise NotFound()
        result = appeals.do_decide_appeal(
            session,
            appeal,
            moderator,
            reverse=outcome == "reverse",
            reason=forms.clean(reason, "reason"),
            now=ctx.now,
            public_url=ctx.settings.public_url,
        )
    if result.republished is not None:
        publish_changes(ctx.registry, [result.republished])
    return _done(ctx, actions.Outcome(), "Appeal reversed." if outcome == "reverse" else "Appeal upheld.")
