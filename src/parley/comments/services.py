"""The write side of comments: create, edit, delete, and the status changes moderation makes.

Counters (thread comment count, parent reply count, ancestors' descendant counts) change in the
same transaction as the status, through :func:`apply_status_change`, with ``x = x + n`` updates so
concurrent writers never lose one another's increments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from parley.accounts.models import Account
from parley.comments import paths, rendering
from parley.comments.errors import (
    CommentNotEditable,
    CommentNotFound,
    EditWindowClosed,
    InvalidParent,
)
from parley.comments.models import Comment, CommentRevision, CommentStatus, Thread
from parley.comments.threads import ThreadFacts, bump_version, is_open
from parley.db.base import next_id
from parley.db.database import touch_threads
from parley.db.direct import Along, Direct
from parley.db.stored import add_as_stored, row_as_stored
from parley.errors import Forbidden
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.models import ModerationDecision
from parley.moderation.pipeline import Pipeline
from parley.moderation.services import do_record_decision, refusal_error, status_for
from parley.moderation.sql import SqlCopyIndex
from parley.moderation.types import Decision, Refusal
from parley.security import hash_token
from parley.sites.models import Site
from parley.sites.policy import SiteSettings
from parley.webhooks.events import comment_data, do_emit

PUBLISHED = CommentStatus.PUBLISHED.value


@dataclass(frozen=True, slots=True)
class Moderated:
    comment: Comment
    decision: Decision
    record: ModerationDecision


def author_info(account: Account, ip_hash: str | None, session_key: str | None) -> AuthorInfo:
    return AuthorInfo(
        account_id=account.id,
        name=account.display_name,
        is_guest=account.kind == "guest",
        role=account.role,
        verified=account.verified,
        status=account.status,
        created_at=account.created_at,
        always_premoderate=account.always_premoderate,
        ip_hash=ip_hash,
        # stores key rate events by this: a digest, never the bearer token itself
        session_key=hash_token(session_key)[:24] if session_key else None,
    )


def thread_info(thread: ThreadFacts, now: datetime) -> ThreadInfo:
    settings = thread.settings or {}
    premod = settings.get("premoderate")
    return ThreadInfo(
        id=thread.id,
        key=thread.key,
        site_id=thread.site_id,
        is_open=is_open(thread, now),
        premoderate=premod if isinstance(premod, bool) else None,
        heat=bool(settings.get("heat", False)),
    )


def render_body(source: str, policy: SiteSettings) -> rendering.RenderedBody:
    """Render a submitted body, refusing one over the site's maximum *before* Markdown sees it.

    The length phase refuses it too, but only after rendering, and Markdown's cost grows faster than
    the text on hostile input (100 KB of ``*a`` took seconds, inside the write transaction). The
    refusal is the length phase's own (422 ``body_too_long``).
    """
    normalized = rendering.normalize_source(source)
    limit = policy.moderation.max_length
    if len(normalized) > limit:
        params = {"length": len(normalized), "limit": limit}
        raise refusal_error(Refusal("body_too_long", 422, "The comment is too long.", params))
    return rendering.render(normalized)


def run_pipeline(
    pipeline: Pipeline,
    *,
    body: rendering.RenderedBody,
    author: AuthorInfo,
    thread: ThreadInfo,
    site: Site,
    policy: SiteSettings,
    now: datetime,
    backends: Any,
    is_edit: bool = False,
    comment_id: int | None = None,
    parent_id: int | None = None,
    report_count: int = 0,
    memo: dict[str, Any] | None = None,
) -> tuple[ModerationContext, Decision]:
    """Moderate a rendered body. A refusal (closed thread, too long, flood …) raises its API error;
    otherwise the context comes back with the decision, for :func:`do_record_outcome`. ``memo`` is
    what :func:`prepare_moderation` computed for the same body and site, if anything."""
    ctx = ModerationContext(
        text=body.text,
        source=body.source,
        html=body.html,
        links=body.links,
        author=author,
        thread=thread,
        policy=policy.moderation,
        now=now,
        site_slug=site.slug,
        site_name=site.name,
        is_edit=is_edit,
        comment_id=comment_id,
        parent_id=parent_id,
        backends=backends,
        report_count=report_count,
        memo=memo if memo is not None else {},
    )
    copies = getattr(backends, "copies", None)
    if isinstance(copies, SqlCopyIndex):
        copies.know_site(site.slug, site.id)  # loaded already: the index need not look it up
    decision = pipeline.run(ctx)
    if decision.refusal is not None:
        raise refusal_error(decision.refusal)
    return ctx, decision


def prepare_moderation(
    pipeline: Pipeline, *, body: rendering.RenderedBody, site: Site, policy: SiteSettings, now: datetime
) -> dict[str, Any]:
    """The pipeline's text-only work for ``body`` (normalizing, the copy fingerprint, the models'
    scores), done before the write transaction so it does not hold up other writers; hand the
    result to :func:`run_pipeline` as ``memo``. Author and thread are not known here and not read."""
    draft = ModerationContext(
        text=body.text,
        source=body.source,
        html=body.html,
        links=body.links,
        author=AuthorInfo(account_id=None, name=""),
        thread=ThreadInfo(id=None, key="", site_id=site.id),
        policy=policy.moderation,
        now=now,
        site_slug=site.slug,
        site_name=site.name,
    )
    return pipeline.prepare(draft)


_COMMENTS = cast(Table, Comment.__table__)
# every column of the comment a reply answers, read along the POST's first read (parent_along)
_PARENT = Direct(select(_COMMENTS).where(_COMMENTS.c.id == bindparam("parent_id")))
_PARENT_READ = "parley.comments.parent"  # in Session.info: the parent read along (parent_along)


def parent_along(session: Session, parent_id: int) -> Along:
    """The read of the comment a reply answers, to go along the POST's first read
    (``threads.do_open_post``): the comment is put into the session as loaded, so
    :func:`check_parent`'s ``session.get`` finds it there instead of asking the database."""

    def take(rows: list[tuple[Any, ...]]) -> None:
        # held by the unit's session: its identity map alone holds an unchanged object weakly
        session.info[_PARENT_READ] = [row_as_stored(session, Comment, row) for row in rows]

    return Along(_PARENT, {"parent_id": parent_id}, take)


def check_parent(session: Session, thread: ThreadFacts, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id or parent.status != PUBLISHED:
        raise InvalidParent()
    return parent


def do_insert_comment(
    session: Session,
    *,
    site: Site,
    thread: ThreadFacts,
    parent: Comment | None,
    author: Account,
    body: rendering.RenderedBody,
    status: str,
    now: datetime,
    ip_hash: str | None,
    flags: dict[str, Any] | None = None,
    comment_id: int | None = None,
) -> Comment:
    """Store a new comment. ``comment_id``: its id, if drawn already (a POST's, by
    ``threads.do_open_post``)."""
    published = status == PUBLISHED
    # the path holds the comment's own id: drawn first, so the row is stored whole (an UPDATE of
    # the path after the INSERT was, on PostgreSQL, a second entry in each of the table's indexes)
    if comment_id is None:
        (comment_id,) = allocate_comment_ids(session, 1)
    path = paths.child_path(parent.path if parent else "", comment_id)
    root_id = (parent.root_id or parent.id) if parent else comment_id
    comment = add_as_stored(  # without the ORM's flush: this runs inside the writers' lock
        session,
        Comment,
        {
            "id": comment_id,
            "path": path,
            "root_id": root_id,
            "site_id": site.id,
            "thread_id": thread.id,
            "parent_id": parent.id if parent else None,
            "depth": (parent.depth + 1) if parent else 0,
            "author_id": author.id,
            "author_name": author.display_name,
            "body_source": body.source,
            "body_html": body.html,
            "body_text": body.text,
            "status": status,
            "published_at": now if published else None,
            "flags": flags or {},
            "ip_hash": ip_hash,
            "created_at": now,
            "updated_at": now,
        },
    )
    if published:
        _move_counters(session, comment, 1, now)
        _emit_status(session, comment, CommentStatus.HELD.value, PUBLISHED, now, thread)
    return comment


def apply_status_change(session: Session, comment: Comment, new_status: str, now: datetime) -> None:
    """Set the status and keep every counter that depends on visibility in step."""
    old = comment.status
    if old == new_status:
        return
    comment.status = new_status
    comment.updated_at = now
    if new_status == PUBLISHED and comment.published_at is None:
        comment.published_at = now
    delta = (new_status == PUBLISHED) - (old == PUBLISHED)
    session.flush()
    _move_counters(session, comment, delta, now)
    _emit_status(session, comment, old, new_status, now)


_THREADS = cast(Table, Thread.__table__)

# The statements of the write path, built once (a POST runs them all): only bound per call.
# (on the driver's cursor, parley.db.direct: they run inside the writers' lock)
# PostgreSQL: from the id sequence (what the INSERT would draw)
_NEXT_IDS = Direct(
    select(next_id(_COMMENTS)).select_from(func.generate_series(1, bindparam("n", type_=Integer))),
    tables=(),  # a sequence: no deferred write changes what it returns
)
# SQLite: the highest id so far (the caller adds 1..n), as SQLite itself picks a new row's id: safe
# because its write transactions are exclusive (BEGIN IMMEDIATE, the writers' lock)
_MAX_ID = Direct(select(func.coalesce(func.max(_COMMENTS.c.id), 0)))


def allocate_comment_ids(session: Session, n: int) -> list[int]:
    """``n`` fresh comment ids, known before the insert, so a comment's path (which ends in its own
    id) is stored with the row. Only inside a write unit of work."""
    if session.get_bind().dialect.name == "postgresql":
        return [int(row[0]) for row in _NEXT_IDS.rows(session, {"n": n})]
    start = int(_MAX_ID.scalar(session, {}))
    return list(range(start + 1, start + n + 1))


_thread_where = _THREADS.c.id == bindparam("b_thread")
_version = _THREADS.c.version + 1
_count = _THREADS.c.comment_count + bindparam("b_delta", type_=Integer)
_BUMP_THREAD = {
    # delta > 0: a comment became visible; < 0: one went away; 0: only the version moves
    1: Direct(
        update(_THREADS)
        .where(_thread_where)
        .values(
            version=_version,
            comment_count=_count,
            last_comment_at=bindparam("b_now", type_=_THREADS.c.last_comment_at.type),
        )
    ),
    -1: Direct(update(_THREADS).where(_thread_where).values(version=_version, comment_count=_count)),
    0: Direct(update(_THREADS).where(_thread_where).values(version=_version)),
}
_b_delta = bindparam("b_delta", type_=Integer)
_MOVE_ANCESTORS = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        descendant_count=_COMMENTS.c.descendant_count + _b_delta,
        reply_count=_COMMENTS.c.reply_count
        + case((_COMMENTS.c.id == bindparam("b_parent", type_=Integer), _b_delta), else_=0),
    )
)


def _move_counters(session: Session, comment: Comment, delta: int, now: datetime) -> None:
    """Move the counters that count ``comment`` by ``delta`` and bump the thread's version.

    Two statements at most, as plain ``x = x + n`` updates on the tables (no ORM bulk-update
    bookkeeping on the hottest write path): the thread's count, last comment time and version in
    one; the parent's reply count and every ancestor's descendant count in the other. Objects of
    this session that hold those counters are expired, so they reload what the database has.
    """
    params = {"b_thread": comment.thread_id, "b_delta": delta, "b_now": now}
    _BUMP_THREAD[(delta > 0) - (delta < 0)].defer(session, params)
    touch_threads(comment.thread_id)
    _expire(session, Thread, [comment.thread_id], ("version", "comment_count", "last_comment_at"))
    ancestors = paths.ancestor_ids(comment.path) if delta else []
    if ancestors:
        session.execute(
            _MOVE_ANCESTORS, {"b_ids": ancestors, "b_delta": delta, "b_parent": comment.parent_id}
        )
        _expire(session, Comment, ancestors, ("descendant_count", "reply_count"))


def _expire(session: Session, model: type[Any], ids: list[int], attrs: tuple[str, ...]) -> None:
    for pk in ids:
        loaded = session.identity_map.get(identity_key(model, pk))
        if loaded is not None:
            session.expire(loaded, list(attrs))


def _emit_status(
    session: Session, comment: Comment, old: str, new: str, now: datetime, thread: ThreadFacts | None = None
) -> None:
    """Webhooks and notifications hear of visibility changes (``parley.webhooks.events``)."""
    kind = {PUBLISHED: "comment.published", CommentStatus.REJECTED.value: "comment.rejected"}.get(new)
    if kind is None and new == CommentStatus.HELD.value and old == PUBLISHED:
        kind = "comment.held"  # taken back from readers (reports, an edit): the author is told why
    if kind is not None:
        data = {**comment_data(session, comment, thread), "status_before": old}
        do_emit(session, site_id=comment.site_id, kind=kind, data=data, now=now)


def do_record_moderation(
    session: Session,
    comment: Comment,
    decision: Decision,
    status_before: str | None,
    now: datetime,
    trigger: str,
    decision_id: int | None = None,
) -> ModerationDecision:
    return do_record_decision(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        decision=decision,
        status_before=status_before,
        status_after=comment.status,
        now=now,
        trigger=trigger,
        decision_id=decision_id,
    )


def access_comment(session: Session, comment_id: int, site: Site | None = None) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or (site is not None and comment.site_id != site.id):
        raise CommentNotFound()
    return comment


def check_author_may_change(
    comment: Comment, account_id: int | None, policy: SiteSettings, now: datetime
) -> None:
    if account_id is None or comment.author_id != account_id:
        if comment.status != CommentStatus.PUBLISHED.value:
            raise CommentNotFound()  # as on GET: others do not learn that a held comment exists
        raise Forbidden(context={"comment_id": comment.id})
    if comment.status in (CommentStatus.DELETED.value, CommentStatus.REJECTED.value):
        raise CommentNotEditable()
    if now > comment.created_at + timedelta(seconds=policy.edit_window_seconds):
        raise EditWindowClosed(extra={"edit_window_seconds": policy.edit_window_seconds})


def do_edit_comment(
    session: Session,
    comment: Comment,
    body: rendering.RenderedBody,
    decision: Decision,
    editor_id: int,
    now: datetime,
) -> ModerationDecision:
    """Store the old body as a revision, the new body, and the new moderation decision."""
    session.add(
        CommentRevision(
            comment_id=comment.id, body_source=comment.body_source, editor_id=editor_id, created_at=now
        )
    )
    comment.body_source = body.source
    comment.body_html = body.html
    comment.body_text = body.text
    comment.edited_at = now
    comment.edit_count += 1
    before = comment.status
    after = status_for(decision.verdict)
    record = do_record_decision(
        session,
        site_id=comment.site_id,
        comment_id=comment.id,
        decision=decision,
        status_before=before,
        status_after=after,
        now=now,
        trigger="edit",
    )
    apply_status_change(session, comment, after, now)
    bump_version(session, comment.thread_id)
    data = comment_data(session, comment)
    do_emit(session, site_id=comment.site_id, kind="comment.updated", data=data, now=now)
    return record


def do_delete_comment(session: Session, comment: Comment, now: datetime) -> None:
    """Author deletion: the text is gone for good (revisions too); a tombstone keeps replies in place."""
    for rev in session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id)):
        session.delete(rev)
    comment.body_source = ""
    comment.body_html = ""
    comment.body_text = ""
    comment.deleted_at = now
    apply_status_change(session, comment, CommentStatus.DELETED.value, now)
    bump_version(session, comment.thread_id)
