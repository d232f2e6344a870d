"""HTTP views of the comments domain (API v1).

The public reads (thread pages, whole threads, replies, one comment, counts) are ``async`` and run
their short, lock-free queries on the event loop. As plain functions FastAPI ran them in its thread
pool, where concurrent requests fought over the GIL between every fetched row: measured with wrk at
16 connections, a first page took 7 ms of CPU there and 2 ms inline, a 1,000-comment thread 33 ms
and 25 ms. The cost: a whole-thread request holds its worker's loop while it runs. Writes stay in
the pool, since they wait for locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from parley.accounts.models import Account
from parley.accounts.services import GuestLookUp, check_can_act, guest_look_up, take_guest_rows
from parley.cache.http import (
    EAGER_BYTES,
    cache_key,
    codings_for,
    has_credentials,
    in_requested_coding,
    make_entry,
    respond,
)
from parley.cache.interfaces import CachedResponse
from parley.comments import idempotency, queries, reports, services, threads, votes
from parley.comments.errors import CommentNotFound, ThreadNotFound
from parley.comments.models import Thread
from parley.comments.posting import Posted, do_post_comment
from parley.comments.queries import Sort
from parley.comments.rendering import RenderedBody
from parley.comments.schemas import (
    CommentCreate,
    CommentOut,
    CommentPatch,
    CountsOut,
    CreatedOut,
    ListingOut,
    RepliesOut,
    ReportIn,
    ReportOut,
    VoteIn,
    VoteOut,
)
from parley.db.direct import Along
from parley.errors import AppError, Unauthorized, ValidationFailed
from parley.live.bus import ThreadEvent
from parley.moderation.messages import render_reason
from parley.moderation.names import HOLDERS, NameHolder, name_skeleton
from parley.moderation.services import do_record_outcome
from parley.moderation.sql import SqlNameRegistry
from parley.ratelimit.guard import Action, enforce
from parley.sites.models import Site
from parley.sites.policy import SiteSettings
from parley.web.context import RequestContext, context
from parley.web.encodings import negotiate
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse, dumps
from parley.web.turns import in_write_turn
from parley.webhooks.dispatch import active_hook_ids, know_active_hooks

router = APIRouter(prefix="/api/v1", tags=["comments"])
writes = APIRouter(prefix="/api/v1", tags=["comments"])
"""The readers' writes: post, edit, delete, vote on, report a comment (write turns, see includeme)."""

Ctx = Annotated[RequestContext, Depends(context)]
CommentId = Annotated[int, Path(ge=1, le=2**53, description="Comment id")]
ThreadKey = Annotated[str, Path(min_length=1, max_length=512, description="Article id or URL of the thread")]
ERRORS = problem_responses({400: "Bad request", 404: "Not found", 422: "Invalid fields"})
# A whole thread (``view=flat``) of more published comments than this is built and encoded in the
# thread pool: on the event loop a 10,000-comment build (~0.2 s) would stall every other request of
# the worker, cache hits included. Smaller ones stay on the loop, where reads are cheaper.
FLAT_BUILD_IN_POOL = 2000
READ_ERRORS = {304: {"description": "Not modified (If-None-Match named the current ETag)"}, **ERRORS}
WRITE_ERRORS = problem_responses(
    {
        400: "Bad request",
        401: "Not logged in, or a bad token",
        403: "Not allowed, or the CSRF token is missing",
        404: "Not found",
        409: "Conflict (e.g. thread closed, name taken)",
        422: "Invalid fields",
        429: "Rate limited (see Retry-After)",
    }
)


def site_out(site: Site, policy: SiteSettings) -> dict[str, Any]:
    cta = policy.cta
    return {
        "slug": site.slug,
        "name": site.name,
        "guests_allowed": policy.guests_allowed,
        "edit_window_seconds": policy.edit_window_seconds,
        "reply_depth": policy.reply_depth,
        "locale": policy.locale,
        "sso": bool(site.sso_secret or site.sso_public_key),
        "cta": (
            {
                "title": cta.title,
                "text": cta.text,
                "link": str(cta.link) if cta.link else None,
                "button": cta.button,
            }
            if cta
            else None
        ),
    }


def public_reasons(decision: Any, locale: str) -> list[dict[str, str]]:
    """``{phase, code, detail}`` per reason, the detail in the reader's language (``?lang=``,
    Accept-Language; English by default), so the widget can tell an author why in their words."""
    return [{**r.public(), "detail": render_reason(r, locale)} for r in decision.reasons]


def thread_out(thread: threads.ThreadView | None, key: str, ctx: RequestContext) -> dict[str, Any]:
    if thread is None:
        return {"key": key, "title": "", "url": "", "status": "open", "comment_count": 0}
    return {
        "key": thread.key,
        "title": thread.title,
        "url": thread.url,
        "status": threads.effective_status(thread, ctx.now),
        "comment_count": thread.comment_count,
    }


@router.get("/threads/{thread_key:path}/comments", response_model=ListingOut, responses=READ_ERRORS)
async def list_comments(
    ctx: Ctx,
    thread_key: ThreadKey,
    sort: Sort = Sort.BEST,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    replies: Annotated[int, Query(ge=0, le=50, description="Replies embedded per top-level comment")] = 3,
    view: Literal["flat", "tree"] = "tree",
) -> Response:
    """Published comments of a thread: a page of top-level comments with their first replies, or the
    whole thread oldest first (``view=flat``).

    Anonymous readers' pages come from the response cache, keyed by the thread's version (see
    :mod:`parley.cache.http`); every response has an ``ETag`` and answers ``If-None-Match`` with 304."""
    reg = ctx.registry
    secret = ctx.settings.secret
    key = None
    until: datetime | None = None
    with reg.db.read() as session:
        site = ctx.site(session)
        policy = site.policy()
        principal = ctx.principal(session, site)
        thread = threads.find_thread_view(session, site.id, threads.check_thread_key(thread_key))
        if thread is None and not policy.auto_create_threads:
            raise ThreadNotFound()
        body: dict[str, Any] = {
            "thread": thread_out(thread, thread_key, ctx),
            "site": site_out(site, policy),
            "comments": [],
            "next_cursor": None,
            "own_pending": [],
        }
        me = principal.account_id
        if me is None:
            # the small live parts (thread status, which closes with time; site settings) go into
            # the key as they are; the comments are covered by the version
            version = thread.version if thread is not None else None
            head = [body["thread"], body["site"]]
            key = cache_key("thread", site.id, version, sort.value, limit, cursor, replies, view, head)
            if thread is not None and thread.closes_at is not None and threads.is_open(thread, ctx.now):
                until = thread.closes_at  # the status in the head turns to closed then
            hit = _cached(ctx, key, "thread", until, (thread.id,) if thread is not None else ())
            if hit is not None:
                return hit
        if thread is None:
            return _fresh(ctx, key, body, until=until)
        big = view == "flat" and thread.comment_count > FLAT_BUILD_IN_POOL
        if big and key is not None:
            return await _whole_thread_in_pool(ctx, session, body, thread.id, key, until)
        if big:  # the loop waits without the work; the session is used by one thread at a time
            body["comments"] = await run_in_threadpool(_flat_comments, session, thread.id, me)
        elif view == "flat":
            body["comments"] = _flat_comments(session, thread.id, me)
        else:
            top, body["next_cursor"] = queries.top_level_page(
                session, thread.id, sort=sort, limit=limit, cursor=cursor, secret=secret
            )
            reply_rows = queries.first_replies(session, [r.id for r in top], replies)
            ids = [r.id for r in top] + [r.id for r in reply_rows]
            mine = queries.my_votes(session, me, ids) if me else None
            by_root: dict[int, list[Any]] = {}
            for r in reply_rows:
                by_root.setdefault(r.root_id, []).append(r)
            out = []
            for r in top:
                item = queries.serialize(r, mine, me)
                shown = by_root.get(r.id, [])
                item["replies"] = [queries.serialize(x, mine, me) for x in shown]
                if r.descendant_count > len(shown):
                    last = shown[-1].path if shown else r.path
                    item["replies_cursor"] = queries.replies_cursor(secret, r.id, last)
                out.append(item)
            body["comments"] = out
        if me:
            pending = [queries.serialize(r, None, me) for r in queries.own_pending(session, me, thread.id)]
            statements = queries.latest_statements(session, [p["id"] for p in pending], ctx.locale)
            for p in pending:
                reasons, token = statements.get(p["id"], ([], None))
                p["reasons"] = reasons
                p["statement_url"] = ctx.url(f"/statements/{token}") if token else None
            body["own_pending"] = pending
    if big:
        entry = await run_in_threadpool(_encode, ctx, body, key is not None)
        return _store(ctx, key, entry, "thread", until, (thread.id,))
    return _fresh(ctx, key, body, until=until, threads=(thread.id,))


def _cached(
    ctx: RequestContext, key: str, view: str, until: datetime | None = None, threads: Sequence[int] = ()
) -> Response | None:
    """The stored response for ``key`` (an anonymous view), or None on a miss. ``until``: when the
    answer stops being true without a write; ``threads``: whose rows it shows (see
    :meth:`parley.cache.front.FrontIndex.remember`)."""
    reg = ctx.registry
    entry = reg.cache.get(key)
    reg.metrics.cache_lookup(view, hit=entry is not None)
    if entry is None:
        return None
    return _answer(ctx, key, entry, view, until, threads)


def _answer(
    ctx: RequestContext,
    key: str,
    entry: CachedResponse,
    view: str,
    until: datetime | None,
    threads: Sequence[int],
) -> Response:
    """Answer an anonymous view with the entry of ``key``; a public answer is remembered by the
    front. On the event loop: the front index is the loop's."""
    entry = in_requested_coding(
        ctx.registry.cache, key, entry, ctx.settings, ctx.request.headers.get("accept-encoding", "")
    )
    public = not has_credentials(ctx.request)
    if public:
        ctx.registry.front.remember(ctx.request.scope, key, view, ctx.now, until=until, threads=threads)
    return respond(ctx.request, entry, ctx.settings, public=public)


def _flat_comments(session: Any, thread_id: int, me: int | None) -> list[dict[str, Any]]:
    rows = queries.whole_thread(session, thread_id)
    mine = queries.my_votes(session, me, [r.id for r in rows]) if me else None
    return [queries.serialize(r, mine, me) for r in rows]


async def _whole_thread_in_pool(
    ctx: RequestContext, session: Any, body: dict[str, Any], thread_id: int, key: str, until: datetime | None
) -> Response:
    """An anonymous reader's whole big thread, read and encoded in the thread pool — once per
    worker and version: readers who ask while it is being built wait for that build and are
    answered with its entry (left to themselves, a hot thread's readers would each start one; the
    entry is handed over, not re-read, as a cache may not keep one that large)."""
    builds = ctx.registry.builds
    while (running := builds.get(key)) is not None:
        built = await asyncio.shield(running)
        if built is not None:
            return _answer(ctx, key, built, "thread", until, (thread_id,))
        # that build failed: the first reader to wake builds again, the others wait for it
    done: asyncio.Future[CachedResponse | None] = asyncio.get_running_loop().create_future()
    builds[key] = done
    entry = None
    try:
        entry = await run_in_threadpool(_build_whole_thread, ctx, session, body, thread_id)
        return _store(ctx, key, entry, "thread", until, (thread_id,))
    finally:
        if builds.get(key) is done:
            del builds[key]
        done.set_result(entry)


def _build_whole_thread(
    ctx: RequestContext, session: Any, body: dict[str, Any], thread_id: int
) -> CachedResponse:
    """An anonymous reader's whole thread, read and encoded (one trip to the thread pool)."""
    body["comments"] = _flat_comments(session, thread_id, None)
    return _encode(ctx, body, shared=True)


def _encode(ctx: RequestContext, body: Any, shared: bool) -> CachedResponse:
    """``body`` as JSON, with its ETag and, when large enough, its compressed bytes in the coding
    this request gets — in every coding offered when the entry is ``shared`` (cached for all
    readers) and at least :data:`~parley.cache.http.EAGER_BYTES` long. Other codings of a smaller
    shared entry are made when first asked for (:func:`~parley.cache.http.completed`); a logged-in
    reader's view is made for one response."""
    settings = ctx.settings
    data = dumps(body)
    codings = codings_for(data, settings)
    if not (shared and len(data) >= EAGER_BYTES):
        chosen = negotiate(ctx.request.headers.get("accept-encoding"), codings)
        codings = (chosen,) if chosen is not None else ()
    return make_entry(data, settings.compress_min_bytes, codings)


def _fresh(
    ctx: RequestContext,
    key: str | None,
    body: Any,
    view: str = "thread",
    until: datetime | None = None,
    threads: Sequence[int] = (),
) -> Response:
    """Encode ``body``; store it under ``key`` when it is the anonymous view (``key`` set)."""
    return _store(ctx, key, _encode(ctx, body, key is not None), view, until, threads)


def _store(
    ctx: RequestContext,
    key: str | None,
    entry: CachedResponse,
    view: str,
    until: datetime | None,
    threads: Sequence[int],
) -> Response:
    """Store ``entry`` under ``key`` (the anonymous view) and answer with it."""
    if key is None:
        return respond(ctx.request, entry, ctx.settings, public=False)
    ctx.registry.cache.set(key, entry)
    return _answer(ctx, key, entry, view, until, threads)


@router.get("/comments/{comment_id}/replies", response_model=RepliesOut, responses=READ_ERRORS)
async def list_replies(
    ctx: Ctx,
    comment_id: CommentId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The rest of a comment's subtree, in thread order, a page at a time (cached like a thread page)."""
    reg = ctx.registry
    key = None
    with reg.db.read() as session:
        site = ctx.site(session)
        principal = ctx.principal(session, site)
        comment = services.access_comment(session, comment_id, site)
        if principal.account_id is None:
            version = session.scalar(threads.version_stmt(), {"thread_id": comment.thread_id})
            key = cache_key("replies", site.id, comment.id, version, limit, cursor)
            hit = _cached(ctx, key, "replies", threads=(comment.thread_id,))
            if hit is not None:
                return hit
        rows, next_cursor = queries.subtree_page(
            session, comment, limit=limit, cursor=cursor, secret=ctx.settings.secret
        )
        mine = queries.my_votes(session, principal.account_id, [r.id for r in rows])
        body = {
            "comments": [queries.serialize(r, mine, principal.account_id) for r in rows],
            "next_cursor": next_cursor,
        }
    return _fresh(ctx, key, body, "replies", threads=(comment.thread_id,))


@writes.post(
    "/threads/{thread_key:path}/comments",
    status_code=201,
    response_model=CreatedOut,
    responses=WRITE_ERRORS,
)
@in_write_turn
def create_comment(
    ctx: Ctx,
    thread_key: ThreadKey,
    payload: CommentCreate,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Response:
    """Post a comment or reply. Moderation decides its status; the reasons come back with it."""
    reg = ctx.registry
    # Before the write lock: who posts (read only), the rendered body and the pipeline's text-only
    # work (normalizing, fingerprint, the models' scores) — the costly pure part of a POST, which
    # then does not hold up other writers. Everything that decides runs in the write transaction.
    # The name holder and the webhooks are read ahead only where writers take turns (SQLite's
    # writers' lock); PostgreSQL reads them in the write transaction, which spares a read
    # transaction of its own (a pooled connection's ping, BEGIN and ROLLBACK: three round trips).
    # The CPU-bound work takes a turn (Registry.cpu_turns); on SQLite the reads take it too: the
    # database's writer thread pauses the turns while it holds the writers' lock, and the reads'
    # statements otherwise took the GIL from it (docs/performance.md); on PostgreSQL the reads are
    # round trips, which a turn would make the process's other POSTs wait for.
    ahead = reg.db.writers_take_turns
    with reg.cpu_turns if ahead else nullcontext():
        with reg.db.read() as reading:
            site = ctx.site(reading)
            principal = ctx.principal(reading, site)
            guest = principal.posts_as_guest
            if guest and idempotency_key is None:
                enforce(ctx, Action.GUEST)  # a new guest identity; with a key, after the replay check
            reserved = ctx.site_cache.reserved_names(reading) if guest else None
            holders = _guest_name_holders(reading, payload.author_name) if guest and ahead else None
            hooks = active_hook_ids(reading, site.id) if ahead else None  # most sites have none
        with nullcontext() if ahead else reg.cpu_turns:
            body_ahead, memo = _prepare(ctx, site, payload)

    def unit(session: Session) -> tuple[Posted, tuple[Any, ...], bytes | None] | Response:
        """What runs in the write transaction (on SQLite, on the database's writer thread)."""
        if hooks is not None:
            know_active_hooks(session, site.id, hooks)
        claim = None
        if idempotency_key is not None:
            key = idempotency.check_key(idempotency_key)
            scope = f"a:{principal.account_id}" if principal.account_id else f"ip:{ctx.ip_hash}:{site.id}"
            req_hash = idempotency.request_hash("POST", thread_key, payload.model_dump_json().encode())
            found = idempotency.do_claim(session, scope, key, req_hash, ctx.now)
            if isinstance(found, idempotency.Stored):
                return Response(found.body, status_code=found.status_code, media_type="application/json")
            claim = found
        if guest and claim is not None:
            enforce(ctx, Action.GUEST)  # a new guest identity (replays above are not counted)
        along: list[Along] = []
        if memo is not None and holders:
            memo[HOLDERS] = holders  # the guest check and the names phase share one look-up
        elif memo is not None and guest and not ahead:  # after the replay check: a replay needs none
            # with the guest account a returning guest's name and address find, in the POST's
            # first statement (do_open_post)
            look_up = guest_look_up(payload.author_name, payload.email, ctx.settings.secret)
            if look_up is not None:
                along.append(_guest_along(session, look_up, memo))
        posted = do_post_comment(
            session,
            site=site,
            principal=principal,
            payload=payload,
            thread_key=thread_key,
            pipeline=reg.pipeline,
            backends=reg.backends_for(session),
            ip_hash=ctx.ip_hash,
            now=ctx.now,
            session_days=ctx.settings.session_days,
            secret=ctx.settings.secret,
            body=body_ahead,
            memo=memo,
            reserved=reserved,
            along=along,
        )
        row = queries.row_of(posted.comment, posted.author)
        stored = None
        if claim is not None:  # the stored answer is part of the transaction
            stored = _created_body(ctx, posted, row)
            idempotency.do_complete(session, claim, 201, stored)
        return posted, row, stored

    # the phases' metrics are recorded once the writers' lock is free again
    with reg.pipeline.observed_after(memo):
        outcome = reg.db.run_write(unit)
    if isinstance(outcome, Response):
        return outcome
    posted, row, encoded = outcome
    if encoded is None:
        encoded = _created_body(ctx, posted, row)  # after the lock: nothing else waits for this
    if posted.comment.status == "published":
        reg.events.publish(_event(posted.comment, "comment.published"))
    response = Response(encoded, status_code=201, media_type="application/json")
    if posted.new_session is not None:
        ctx.set_session_cookie(response, posted.new_session.token)
    return response


def _guest_along(session: Session, look_up: GuestLookUp, memo: dict[str, Any]) -> Along:
    """The guest's look-up as a read along the POST's first, its finds into ``memo``."""

    def take(rows: list[tuple[Any, ...]]) -> None:
        memo[HOLDERS] = take_guest_rows(session, look_up, rows, memo)

    return Along(look_up.read, look_up.values, take)


def _guest_name_holders(session: Session, name: str | None) -> dict[str, NameHolder | None] | None:
    """The account holding a guest's name, looked up once: the guest check and the names phase
    use it instead of asking each. On SQLite it is read before the writers' lock; an account
    registered in the milliseconds between is not seen — the impersonated name is an established one."""
    skeleton = name_skeleton(name) if name else ""
    return {skeleton: SqlNameRegistry(session).holder(skeleton)} if skeleton else None


def _prepare(
    ctx: RequestContext, site: Site, payload: CommentCreate
) -> tuple[RenderedBody | None, dict[str, Any] | None]:
    """The body rendered and the pipeline's text-only work, ahead of the write transaction. A body
    the renderer refuses (too long) is left to the transaction, which refuses it in its usual
    place (after an idempotency key is looked up)."""
    policy = site.policy()
    try:
        body = services.render_body(payload.body, policy)
    except AppError:
        return None, None
    pipeline = ctx.registry.pipeline
    return body, services.prepare_moderation(pipeline, body=body, site=site, policy=policy, now=ctx.now)


def _created_body(ctx: RequestContext, posted: Posted, row: tuple[Any, ...]) -> bytes:
    """The 201 answer to a POST: the comment as its author sees it, the reasons, a new guest's session."""
    item = queries.serialize(row, None, posted.author.id)
    reasons = public_reasons(posted.decision, ctx.locale)
    token = posted.record.statement_token
    statement_url = ctx.url(f"/statements/{token}") if token else None
    item["reasons"] = reasons
    item["statement_url"] = statement_url
    body: dict[str, Any] = {"comment": item, "reasons": reasons, "statement_url": statement_url}
    if posted.new_session is not None:
        body["session"] = {
            "token": posted.new_session.token,
            "csrf_token": posted.new_session.csrf_token,
            "account_id": posted.author.id,
            "name": posted.author.display_name,
        }
    return dumps(body)


def _event(comment: Any, kind: str, **data: Any) -> ThreadEvent:
    return ThreadEvent(
        site_id=comment.site_id,
        thread_id=comment.thread_id,
        kind=kind,
        data={"id": comment.id, "parent_id": comment.parent_id, **data},
    )


@router.get("/comments/{comment_id}", response_model=CommentOut, responses=READ_ERRORS)
async def get_comment(ctx: Ctx, comment_id: CommentId) -> Response:
    """One comment (for deep links). Held and rejected comments only for their author, who also
    gets the Markdown ``source`` (to edit it as written, links included). Cached like a thread page."""
    key = None
    with ctx.registry.db.read() as session:
        site = ctx.site(session)
        principal = ctx.principal(session, site)
        comment = services.access_comment(session, comment_id, site)
        if comment.status != "published" and comment.author_id != principal.account_id:
            raise CommentNotFound()
        if principal.account_id is None:
            version = session.scalar(threads.version_stmt(), {"thread_id": comment.thread_id})
            key = cache_key("comment", site.id, comment.id, version)
            hit = _cached(ctx, key, "comment", threads=(comment.thread_id,))
            if hit is not None:
                return hit
        mine = queries.my_votes(session, principal.account_id, [comment.id])
        row = queries.row_by_id(session, comment.id)
        out = queries.serialize(row, mine, principal.account_id)
        if out["mine"] and comment.status != "deleted":
            out["source"] = comment.body_source
    return _fresh(ctx, key, out, "comment", threads=(comment.thread_id,))


def _require_account(ctx: RequestContext, session: Any, site: Site) -> int:
    principal = ctx.principal(session, site)
    if principal.account_id is None:
        raise Unauthorized()
    return principal.account_id


def _require_active_account(ctx: RequestContext, session: Any, site: Site) -> Account:
    """The caller's account, refused while suspended or banned (they may read and delete, not take
    part: no edits, no votes)."""
    account: Account | None = session.get(Account, _require_account(ctx, session, site))
    if account is None:
        raise Unauthorized()
    check_can_act(account, ctx.now)
    return account


@writes.patch("/comments/{comment_id}", response_model=CreatedOut, responses=WRITE_ERRORS)
@in_write_turn
def edit_comment(ctx: Ctx, comment_id: CommentId, payload: CommentPatch) -> Response:
    """Edit your comment within the site's edit window. The edit is moderated again."""
    reg = ctx.registry
    with reg.db.write() as session:
        site = ctx.site(session)
        author = _require_active_account(ctx, session, site)
        account_id = author.id
        policy = site.policy()
        comment = services.access_comment(session, comment_id, site)
        services.check_author_may_change(comment, account_id, policy, ctx.now)
        thread = session.get(Thread, comment.thread_id)
        assert thread is not None
        body = services.render_body(payload.body, policy)
        principal = ctx.principal(session, site)
        mctx, decision = services.run_pipeline(
            reg.pipeline,
            body=body,
            author=services.author_info(author, ctx.ip_hash, principal.session_token),
            thread=services.thread_info(thread, ctx.now),
            site=site,
            policy=policy,
            now=ctx.now,
            backends=reg.backends_for(session),
            is_edit=True,
            comment_id=comment.id,
            parent_id=comment.parent_id,
            report_count=comment.report_count,
        )
        record = services.do_edit_comment(session, comment, body, decision, account_id, ctx.now)
        do_record_outcome(mctx, decision, comment_id=comment.id)
        item = queries.serialize(queries.row_by_id(session, comment.id), None, account_id)
        reasons = public_reasons(decision, ctx.locale)
        url = ctx.url(f"/statements/{record.statement_token}") if record.statement_token else None
        item["reasons"] = reasons
        item["statement_url"] = url
        event = _event(comment, "comment.updated" if comment.status == "published" else "comment.removed")
    reg.events.publish(event)
    return JSONResponse({"comment": item, "reasons": reasons, "statement_url": url})


@writes.delete("/comments/{comment_id}", status_code=204, responses=WRITE_ERRORS)
@in_write_turn
def delete_comment(ctx: Ctx, comment_id: CommentId) -> Response:
    """Delete your comment (within the edit window). Staff may delete any comment of their site."""
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        account_id = _require_account(ctx, session, site)
        principal = ctx.principal(session, site)
        comment = services.access_comment(session, comment_id, site)
        if not (principal.is_staff and comment.author_id != account_id):
            services.check_author_may_change(comment, account_id, site.policy(), ctx.now)
        services.do_delete_comment(session, comment, ctx.now)
        event = _event(comment, "comment.removed")
    ctx.registry.events.publish(event)
    return Response(status_code=204)


@writes.put("/comments/{comment_id}/vote", response_model=VoteOut, responses=WRITE_ERRORS)
@in_write_turn
def vote(ctx: Ctx, comment_id: CommentId, payload: VoteIn) -> Response:
    """Vote up (1), down (-1) or take your vote back (0). One vote per account per comment."""
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        account_id = _require_active_account(ctx, session, site).id
        enforce(ctx, Action.VOTE, account=account_id)
        comment = services.access_comment(session, comment_id, site)
        result = votes.do_vote(session, comment, account_id, payload.value, ctx.now)
        event = _event(comment, "vote.changed", up=result.up, down=result.down) if result.changed else None
    if event is not None:
        ctx.registry.events.publish(event)
    return JSONResponse(
        {"id": result.comment_id, "up": result.up, "down": result.down, "my_vote": result.my_vote}
    )


@writes.post(
    "/comments/{comment_id}/reports",
    status_code=201,
    response_model=ReportOut,
    responses={200: {"model": ReportOut, "description": "You had reported it already"}, **WRITE_ERRORS},
)
@in_write_turn
def report(ctx: Ctx, comment_id: CommentId, payload: ReportIn) -> Response:
    """Report a comment to the moderators (a notice under DSA Art. 16). Anyone may report."""
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        principal = ctx.principal(session, site)
        reporter = principal.account_id or (f"ip:{ctx.ip_hash}" if ctx.ip_hash else None)
        enforce(ctx, Action.REPORT, account=reporter)
        comment = services.access_comment(session, comment_id, site)
        if comment.status != "published":
            raise CommentNotFound()
        result = reports.do_report(
            session,
            comment,
            reporter_id=principal.account_id,
            ip_hash=ctx.ip_hash,
            reason=payload.reason.value,
            detail=payload.detail.strip(),
            contact=payload.contact.strip() if payload.contact else None,
            good_faith=payload.good_faith,
            policy=site.policy().moderation,
            now=ctx.now,
        )
        out = {"id": result.report.id, "status": result.report.status}
    return JSONResponse(out, status_code=201 if result.created else 200)


@router.get("/counts", response_model=CountsOut, responses=READ_ERRORS)
async def counts(
    ctx: Ctx, threads_param: Annotated[str, Query(alias="threads", max_length=20_000)]
) -> Response:
    """Published comment counts for up to 100 threads (article lists)."""
    keys = [k for k in dict.fromkeys(threads_param.split(",")) if k]
    if not keys or len(keys) > 100:
        raise ValidationFailed([{"field": "threads", "code": "invalid", "message": "1 to 100 thread keys"}])
    for key in keys:
        threads.check_thread_key(key)
    with ctx.registry.db.read() as session:
        site = ctx.site(session)
        counted, thread_ids = queries.counts(session, site.id, keys)
    body = {"counts": counted}
    # Article lists ask for the same counts on every page view: the answer is remembered by the
    # front of the cache (until the next write to one of these threads or a new thread, or
    # cache_recheck_seconds), under a key of its own bytes, so an equal answer keeps its ETag.
    # Nothing is looked up by key: on a miss the one indexed query is the answer.
    return _fresh(ctx, cache_key("counts", site.id, body), body, view="counts", threads=thread_ids)


def includeme(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(writes)  # its views take a write turn each (parley.web.turns.in_write_turn)
