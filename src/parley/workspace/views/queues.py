"""The queues page: held, reported, appeals, copy waves, recently published; filters and orders."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Path, Query
from fastapi.responses import RedirectResponse, Response

from parley.accounts.models import Account
from parley.appeals.models import Appeal
from parley.comments.models import Thread
from parley.errors import NotFound
from parley.moderation.models import ModerationDecision
from parley.statements.services import find_statement
from parley.workspace import queues
from parley.workspace.cards import build_cards
from parley.workspace.queues import Filters, Order, Queue
from parley.workspace.reasons import REASON_CODES
from parley.workspace.views.common import Ctx, int_param, make_router, page, workspace_locale

router = make_router()
SYSTEM_CODES = (
    "banned_term",
    "suspect_term",
    "copy_spam",
    "repeat_post",
    "name_impersonation",
    "too_many_links",
    "denied_domain",
    "link_not_allowed",
    "premoderation",
    "new_author",
    "low_trust",
    "always_premoderate",
    "reported",
    "thread_flood",
    "phase_failed",
)


@router.get("")
def home(ctx: Ctx) -> Response:
    with ctx.registry.db.read() as session:
        from parley.workspace.access import require_moderator

        require_moderator(ctx, session)
    return RedirectResponse("/moderate/queue/held", status_code=303)


@router.get("/queue/{name}")
def queue(
    ctx: Ctx,
    name: Annotated[Queue, Path()],
    site: Annotated[str | None, Query(max_length=64)] = None,
    story: Annotated[str | None, Query(max_length=20)] = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    author: Annotated[str | None, Query(max_length=20)] = None,
    order: Order = Order.OLDEST,
    page_no: Annotated[int, Query(alias="page", ge=0, le=20)] = 0,
) -> Response:
    with ctx.registry.db.read() as session:
        from parley.workspace.access import access_site_by_slug, require_moderator

        moderator = require_moderator(ctx, session)
        site_row = access_site_by_slug(session, moderator, site) if site else None
        thread_id = int_param(story)
        if thread_id is not None:
            thread = session.get(Thread, thread_id)
            if thread is None or not moderator.may_moderate(thread.site_id):
                raise NotFound()
        filters = Filters(
            site_id=site_row.id if site_row else None,
            thread_id=thread_id,
            reason=reason if reason and queues.CODE_RE.match(reason) else None,
            author_id=int_param(author),
            order=order,
            page=page_no,
        )
        loader = {
            Queue.HELD: queues.held_queue,
            Queue.REPORTED: queues.reported_queue,
            Queue.PUBLISHED: queues.published_queue,
            Queue.APPEALS: queues.appeals_queue,
            Queue.WAVES: queues.waves_queue,
        }[name]
        result = loader(session, moderator, filters)
        locale = workspace_locale(ctx.request)
        cards = build_cards(session, result.comments, locale)
        by_comment = {c.comment.id: c for c in cards}
        appeal_rows = []
        for appeal in result.appeals:
            appeal_rows.append(
                _appeal_view(session, appeal, by_comment.get(appeal.comment_id or 0), locale, ctx)
            )
        wave_cards = {
            w.wave_id: build_cards(session, ([w.original] if w.original else []) + w.held[:3], locale)
            for w in result.waves
        }
        thread_title = session.get(Thread, thread_id).title if thread_id else None  # type: ignore[union-attr]
        author_name = None
        if filters.author_id:
            acc = session.get(Account, filters.author_id)
            author_name = acc.display_name if acc else None
        return page(
            ctx,
            session,
            moderator,
            "queue.html",
            active=name.value,
            queue=name.value,
            cards=cards,
            appeals=appeal_rows,
            waves=result.waves,
            wave_cards=wave_cards,
            has_more=result.has_more,
            filters=filters,
            site_slug=site or "",
            reason_codes=[*SYSTEM_CODES, *(r.code for r in REASON_CODES)],
            reject_codes=REASON_CODES,
            thread_title=thread_title,
            author_name=author_name,
            next_query=urlencode(
                {**filters.as_query(), "page": filters.page + 1, **({"site": site} if site else {})}
            ),
        )


def _appeal_view(session: object, appeal: Appeal, card: object, locale: str, ctx: Ctx) -> dict[str, object]:
    from sqlalchemy.orm import Session

    from parley.statements.services import build_statement

    assert isinstance(session, Session)
    token = None
    decided_by = None
    if appeal.decision_id is not None:
        d = session.get(ModerationDecision, appeal.decision_id)
        token = d.statement_token if d else None
        decided_by = d.actor_id if d and d.actor_kind != "system" else None
    else:
        from parley.workspace.models import Sanction

        s = session.get(Sanction, appeal.sanction_id)
        token = s.statement_token if s else None
        decided_by = s.actor_id if s else None
    statement = None
    if token:
        statement = build_statement(
            session,
            find_statement(session, token),
            locale,
            public_url=ctx.settings.public_url,
            window_days=ctx.settings.appeal_window_days,
        )
    author = session.get(Account, appeal.author_id) if appeal.author_id else None
    decider = session.get(Account, decided_by) if decided_by else None
    return {
        "appeal": appeal,
        "card": card,
        "statement": statement,
        "token": token,
        "author": author,
        "decided_by": decider,
        "automated": decided_by is None,
    }
