"""Story controls: close/open comments, pre-moderation on/off, heat mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from parley.audit.services import do_audit
from parley.comments import threads
from parley.comments.models import Comment, CommentStatus, Thread, ThreadStatus
from parley.errors import NotFound
from parley.workspace.access import access_site_by_slug, require_moderator
from parley.workspace.views.common import Ctx, fragment, make_router, page

router = make_router()
ThreadId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/stories")
def stories(ctx: Ctx, site: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """The moderator's stories, most recently commented first, with their held counts."""
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        stmt = select(Thread)
        if site:
            stmt = stmt.where(Thread.site_id == access_site_by_slug(session, moderator, site).id)
        elif moderator.site_ids is not None:
            stmt = stmt.where(Thread.site_id.in_(sorted(moderator.site_ids)))
        rows = list(
            session.scalars(
                stmt.order_by(Thread.last_comment_at.desc().nulls_last(), Thread.id.desc()).limit(100)
            )
        )
        held = (
            dict(
                session.execute(
                    select(Comment.thread_id, func.count(Comment.id))
                    .where(
                        Comment.thread_id.in_([t.id for t in rows]),
                        Comment.status == CommentStatus.HELD.value,
                    )
                    .group_by(Comment.thread_id)
                ).all()
            )
            if rows
            else {}
        )
        return page(
            ctx,
            session,
            moderator,
            "stories.html",
            active="stories",
            stories=rows,
            held=held,
            now=ctx.now,
            is_open=threads.is_open,
            site_slug=site or "",
        )


@router.post("/stories/{thread_id}")
def update_story(
    ctx: Ctx,
    thread_id: ThreadId,
    status: Annotated[str | None, Form(pattern="^(open|closed)$")] = None,
    premoderate: Annotated[str | None, Form(pattern="^(on|off|site)$")] = None,
    heat: Annotated[str | None, Form(pattern="^(on|off)$")] = None,
) -> Response:
    """Change one control of a story; each change is audited."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        thread = session.get(Thread, thread_id)
        if thread is None or not moderator.may_moderate(thread.site_id):
            raise NotFound()
        changes: dict[str, object] = {}
        if status is not None:
            threads.do_set_thread_status(session, thread, ThreadStatus(status), ctx.now)
            changes["status"] = status
        settings: dict[str, object] = {}
        if premoderate is not None:
            settings["premoderate"] = None if premoderate == "site" else premoderate == "on"
        if heat is not None:
            settings["heat"] = heat == "on"
        if settings:
            threads.do_update_thread(session, thread, {"settings": settings})
            changes.update(settings)
        do_audit(
            session,
            action="thread.updated",
            object_type="thread",
            object_id=thread.id,
            site_id=thread.site_id,
            actor_kind="moderator",
            actor_id=moderator.account_id,
            now=ctx.now,
            data={"changes": changes},
        )
        held = session.scalar(
            select(func.count(Comment.id)).where(
                Comment.thread_id == thread.id, Comment.status == CommentStatus.HELD.value
            )
        )
        return fragment(
            ctx,
            "_story_row.html",
            story=thread,
            held={thread.id: held or 0},
            now=ctx.now,
            is_open=threads.is_open,
            csrf_token=moderator.principal.csrf_token or "",
        )
