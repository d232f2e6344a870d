"""The read side: thread pages, reply pages, whole threads, counts. A fixed number of queries per
request whatever the thread size, every one served by an index (see ``models.Comment``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    bindparam,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.comments import cursors, paths
from parley.comments.models import Comment, CommentStatus, Thread, Vote
from parley.db.types import IsoTimestamp, iso_utc

PUBLISHED = CommentStatus.PUBLISHED.value


class Sort(StrEnum):
    BEST = "best"
    TOP = "top"
    NEWEST = "newest"
    OLDEST = "oldest"


# columns a public comment needs; selected as plain rows (no ORM identity map on hot paths), the
# timestamps as the API's text already
_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.root_id,
    Comment.depth,
    Comment.path,
    Comment.status,
    Comment.body_html,
    type_coerce(Comment.created_at, IsoTimestamp()).label("created_at"),
    type_coerce(Comment.edited_at, IsoTimestamp()).label("edited_at"),
    Comment.up,
    Comment.down,
    Comment.reply_count,
    Comment.descendant_count,
    Comment.featured,
    Comment.author_id,
    Comment.author_name,
    Account.display_name,
    Account.verified,
    Account.role,
    Account.kind,
)


_WIDTH = len(_COLUMNS)


def _base() -> Select[Any]:
    columns: tuple[Any, ...] = _COLUMNS
    return select(*columns).outerjoin(Account, Account.id == Comment.author_id)


def _visible() -> Any:
    """Published comments, and tombstones of removed ones that still have visible replies."""
    return or_(Comment.status == PUBLISHED, Comment.descendant_count > 0)


def iso(ts: datetime | str | None) -> str | None:
    """API text of a timestamp; rows of :data:`_COLUMNS` carry it as text already."""
    if ts is None or isinstance(ts, str):
        return ts
    return iso_utc(ts)


_OWN_PENDING = frozenset({CommentStatus.HELD.value, CommentStatus.REJECTED.value})


def serialize(
    row: Row[Any] | tuple[Any, ...], my_votes: dict[int, int] | None = None, viewer: int | None = None
) -> dict[str, Any]:
    """A comment as the API shows it to ``viewer`` (an account id, or None for anonymous readers).

    Its author also sees their own held or rejected comment, with its text (``mine`` is true).
    ``row`` starts with the columns of :data:`_COLUMNS`, in order: they are unpacked by position,
    because this runs once per comment of a page or a whole thread, and named access on a row
    costs several times more than the rest of the function.
    """
    (
        cid,
        parent_id,
        _root_id,
        depth,
        _path,
        status,
        body_html,
        created_at,
        edited_at,
        up,
        down,
        reply_count,
        descendant_count,
        featured,
        author_id,
        author_name,
        display_name,
        verified,
        role,
        kind,
    ) = row[:_WIDTH]
    mine = viewer is not None and author_id == viewer
    visible = status == PUBLISHED or (mine and status in _OWN_PENDING)
    author: dict[str, Any] | None = None
    if visible:
        if author_id is not None and display_name is not None:
            guest = kind == "guest"
            author = {"name": display_name, "verified": bool(verified), "role": role, "guest": guest}
        else:
            author = {"name": author_name or "", "verified": False, "role": "commenter", "guest": True}
    return {
        "id": cid,
        "parent_id": parent_id,
        "depth": depth,
        "author": author,
        "html": body_html if visible else "",
        "status": status,
        "deleted": not visible,
        "featured": bool(featured),
        "mine": mine,
        "created_at": created_at,
        "edited_at": edited_at,
        "up": up,
        "down": down,
        "my_vote": my_votes.get(cid, 0) if my_votes else 0,
        "reply_count": reply_count,
        "descendant_count": descendant_count,
        "replies": [],
    }


def _rows(session: Session, stmt: Select[Any], params: dict[str, Any] | None = None) -> list[Row[Any]]:
    """Run a column select on the session's connection: Core rows, without the ORM's loading layer
    (the hot read paths select plain columns, never entities). Pending ORM changes are not flushed
    first: for read units of work."""
    return list(session.connection().execute(stmt, params or {}).all())


@dataclass(frozen=True, slots=True)
class Page:
    comments: list[dict[str, Any]]
    next_cursor: str | None


def _sort_columns(sort: Sort) -> tuple[Any, Any, bool]:
    """(primary column, tie-breaker, descending)."""
    if sort is Sort.BEST:
        return Comment.wilson, Comment.id, True
    if sort is Sort.TOP:
        return Comment.score, Comment.id, True
    if sort is Sort.NEWEST:
        return Comment.created_at, Comment.id, True
    return Comment.created_at, Comment.id, False


def _key_of(row: Row[Any], sort: Sort) -> list[Any]:
    if sort is Sort.BEST:
        return [float(row.wilson), row.id]
    if sort is Sort.TOP:
        return [int(row.score), row.id]
    return [iso(row.created_at), row.id]


def _parse_key(sort: Sort, key: list[Any]) -> tuple[Any, int]:
    if len(key) != 2 or not isinstance(key[1], int) or isinstance(key[1], bool):
        raise cursors.InvalidCursor()
    first = key[0]
    try:
        if sort is Sort.BEST:
            if isinstance(first, bool) or not isinstance(first, (int, float)):
                raise cursors.InvalidCursor()
            return float(first), key[1]
        if sort is Sort.TOP:
            if isinstance(first, bool) or not isinstance(first, int):
                raise cursors.InvalidCursor()
            return first, key[1]
        if not isinstance(first, str):
            raise cursors.InvalidCursor()
        return datetime.fromisoformat(first.replace("Z", "+00:00")), key[1]
    except ValueError:
        raise cursors.InvalidCursor() from None


@cache
def _top_stmt(sort: Sort, after: bool) -> Select[Any]:
    """A page of top-level comments in ``sort`` order, after a cursor's key when ``after``.

    Statements are built once per process, with bound parameters: building and keying a
    statement costs SQLAlchemy several times what SQLite needs to run it (measured on a
    10,000-comment thread: 1.4 ms against 0.2 ms for the first page).
    """
    primary, tiebreak, desc = _sort_columns(sort)
    stmt = (
        _base()
        .add_columns(Comment.wilson, Comment.score)
        .where(Comment.thread_id == bindparam("thread_id"), Comment.depth == 0, _visible())
    )
    if after:
        cmp = tuple_(primary, tiebreak)
        key = tuple_(bindparam("after_value", type_=primary.type), bindparam("after_id"))
        stmt = stmt.where(cmp < key if desc else cmp > key)
    order = (primary.desc(), tiebreak.desc()) if desc else (primary.asc(), tiebreak.asc())
    return stmt.order_by(*order).limit(bindparam("limit"))


def top_level_page(
    session: Session,
    thread_id: int,
    *,
    sort: Sort,
    limit: int,
    cursor: str | None,
    secret: bytes,
) -> tuple[list[Row[Any]], str | None]:
    purpose = f"top:{thread_id}:{sort.value}"
    params: dict[str, Any] = {"thread_id": thread_id, "limit": limit + 1}
    if cursor:
        params["after_value"], params["after_id"] = _parse_key(sort, cursors.decode(secret, purpose, cursor))
    rows = _rows(session, _top_stmt(sort, bool(cursor)), params)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode(secret, purpose, _key_of(rows[-1], sort))
    return rows, next_cursor


@cache
def _first_replies_stmt(roots: int) -> Select[Any]:
    """The first ``per_root`` visible replies of each of ``roots`` top-level comments: one arm per
    root, each a range of ``ix_comments_root_path`` that stops after ``per_root`` rows.

    A window function (``row_number() over (partition by root_id order by path)``) reads every
    reply of the page's comments before it keeps three of each, so a first page cost grew with the
    biggest subtree on it: 0.8 ms, and 77 ms once one comment on the page had 20,000 replies
    (SQLite, 10,000-comment thread). The arms read at most ``per_root`` rows each (plus hidden ones).
    """
    # constants inline: with bound ones, SQLAlchemy spent more on 200 parameters than SQLite on the query
    visible = or_(
        Comment.status == literal_column(f"'{PUBLISHED}'"), Comment.descendant_count > literal_column("0")
    )
    arms = [
        select(
            _base()
            .where(Comment.root_id == bindparam(f"root_{i}"), Comment.depth > literal_column("0"), visible)
            .order_by(Comment.path)
            .limit(bindparam("per_root"))
            .subquery(f"r{i}")
        )
        for i in range(roots)
    ]
    replies = (arms[0] if roots == 1 else union_all(*arms)).subquery("replies")
    return select(replies).order_by(replies.c.root_id, replies.c.path)


def first_replies(session: Session, root_ids: Sequence[int], per_root: int) -> list[Row[Any]]:
    """The first ``per_root`` replies (tree order) under each top-level comment, in one query."""
    if not root_ids or per_root <= 0:
        return []
    params: dict[str, Any] = {f"root_{i}": rid for i, rid in enumerate(root_ids)}
    params["per_root"] = per_root
    return _rows(session, _first_replies_stmt(len(root_ids)), params)


@cache
def _subtree_stmt() -> Select[Any]:
    return (
        _base()
        .where(
            Comment.root_id == bindparam("root_id"),
            Comment.path > bindparam("lower"),
            Comment.path < bindparam("upper"),
            _visible(),
        )
        .order_by(Comment.path)
        .limit(bindparam("limit"))
    )


def subtree_page(
    session: Session,
    comment: Comment,
    *,
    limit: int,
    cursor: str | None,
    secret: bytes,
) -> tuple[list[Row[Any]], str | None]:
    """Descendants of ``comment`` in tree order, after the cursor's path."""
    purpose = f"sub:{comment.id}"
    lower = comment.path
    if cursor:
        key = cursors.decode(secret, purpose, cursor)
        if len(key) != 1 or not isinstance(key[0], str) or not key[0].startswith(comment.path):
            raise cursors.InvalidCursor()
        lower = key[0]
    params = {
        "root_id": comment.root_id or comment.id,
        "lower": lower,
        "upper": paths.subtree_upper_bound(comment.path),
        "limit": limit + 1,
    }
    rows = _rows(session, _subtree_stmt(), params)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode(secret, purpose, [rows[-1].path])
    return rows, next_cursor


def replies_cursor(secret: bytes, root_id: int, last_path: str) -> str:
    """Cursor to continue a top-level comment's replies after the ones embedded in the page."""
    return cursors.encode(secret, f"sub:{root_id}", [last_path])


@cache
def _by_id_stmt() -> Select[Any]:
    return _base().where(Comment.id == bindparam("comment_id"))


def row_by_id(session: Session, comment_id: int) -> Row[Any]:
    """One comment's row; through the session (not :func:`_rows`), so a write unit's pending changes
    are flushed first."""
    row: Row[Any] = session.execute(_by_id_stmt(), {"comment_id": comment_id}).one()
    return row


def row_of(comment: Comment, author: Account | None) -> tuple[Any, ...]:
    """The row :func:`row_by_id` would read for ``comment``, from the objects a write unit holds
    (its values as stored, without reading them back)."""
    return (
        comment.id,
        comment.parent_id,
        comment.root_id,
        comment.depth,
        comment.path,
        comment.status,
        comment.body_html,
        iso(comment.created_at),
        iso(comment.edited_at),
        comment.up,
        comment.down,
        comment.reply_count,
        comment.descendant_count,
        comment.featured,
        comment.author_id,
        comment.author_name,
        author.display_name if author is not None else None,
        author.verified if author is not None else None,
        author.role if author is not None else None,
        author.kind if author is not None else None,
    )


@cache
def _whole_thread_stmt() -> Select[Any]:
    return (
        _base()
        .where(Comment.thread_id == bindparam("thread_id"), Comment.status == PUBLISHED)
        .order_by(Comment.created_at, Comment.id)
    )


def whole_thread(session: Session, thread_id: int) -> list[Row[Any]]:
    """Every published comment, oldest first (view=flat)."""
    return _rows(session, _whole_thread_stmt(), {"thread_id": thread_id})


def my_votes(session: Session, account_id: int | None, comment_ids: Sequence[int]) -> dict[int, int]:
    if account_id is None or not comment_ids:
        return {}
    stmt = select(Vote.comment_id, Vote.value).where(
        Vote.account_id == account_id, Vote.comment_id.in_(list(comment_ids))
    )
    return {cid: value for cid, value in session.execute(stmt)}  # noqa: C416 (rows are not pairs to mypy)


def own_pending(session: Session, account_id: int | None, thread_id: int) -> list[Row[Any]]:
    """The viewer's own held or rejected comments in the thread (only they see these)."""
    if account_id is None:
        return []
    stmt = (
        _base()
        .where(
            Comment.author_id == account_id,
            Comment.thread_id == thread_id,
            Comment.status.in_([CommentStatus.HELD.value, CommentStatus.REJECTED.value]),
        )
        .order_by(Comment.created_at)
        .limit(50)
    )
    return list(session.execute(stmt))


def counts(session: Session, site_id: int, keys: Sequence[str]) -> tuple[dict[str, int], list[int]]:
    """Published comments per thread key (0 for a thread that does not exist), and the ids of the
    threads that do."""
    rows = session.execute(
        select(Thread.key, Thread.comment_count, Thread.id).where(
            Thread.site_id == site_id, Thread.key.in_(list(keys))
        )
    ).all()
    found = {key: count for key, count, _ in rows}
    return {k: int(found.get(k, 0)) for k in keys}, [thread_id for _, _, thread_id in rows]


def latest_statements(
    session: Session, comment_ids: Sequence[int], locale: str = "en"
) -> dict[int, tuple[list[Any], str | None]]:
    """The reasons (``{phase, code, detail}``) and statement token of each comment's latest decision,
    so an author who reloads still sees why their comment waits. One indexed query."""
    from parley.moderation.models import ModerationDecision

    if not comment_ids:
        return {}
    stmt = (
        select(ModerationDecision.comment_id, ModerationDecision.reasons, ModerationDecision.statement_token)
        .where(ModerationDecision.comment_id.in_(list(comment_ids)))
        .order_by(ModerationDecision.comment_id, ModerationDecision.id)
    )
    out: dict[int, tuple[list[Any], str | None]] = {}
    for cid, reasons, token in session.execute(stmt):
        public = [_public_reason(r, locale) for r in reasons or [] if isinstance(r, dict)]
        out[cid] = (public, token)  # later decisions overwrite earlier ones
    return out


def _public_reason(stored: dict[str, Any], locale: str) -> dict[str, str]:
    """A stored reason as ``{phase, code, detail}``, the detail in ``locale`` when it has a template."""
    from parley.moderation.messages import explain
    from parley.moderation.types import Verdict

    code = str(stored.get("code", ""))
    detail = str(stored.get("detail", ""))
    params = stored.get("params")
    try:
        verdict = Verdict(stored.get("verdict", Verdict.PUBLISH.value))
    except ValueError:
        verdict = Verdict.PUBLISH
    localized = explain(code, params if isinstance(params, dict) else {}, verdict, locale)
    return {
        "phase": str(stored.get("phase", "")),
        "code": code,
        "detail": detail if localized == code else localized,
    }
