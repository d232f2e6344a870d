"""Votes: one row per account per comment, value +1/-1, changeable; counters move in the same
transaction. On PostgreSQL the comment row is locked first, so concurrent votes serialize per
comment; on SQLite every write transaction is already exclusive (BEGIN IMMEDIATE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.comments.models import Comment, CommentStatus, Vote
from parley.comments.scoring import wilson_lower_bound
from parley.comments.threads import bump_version
from parley.webhooks.events import do_emit


@dataclass(frozen=True, slots=True)
class VoteResult:
    comment_id: int
    up: int
    down: int
    my_vote: int
    changed: bool


def do_vote(session: Session, comment: Comment, account_id: int, value: int, now: datetime) -> VoteResult:
    if value not in (-1, 0, 1):
        raise ValueError("vote value must be -1, 0 or 1")
    if comment.status != CommentStatus.PUBLISHED.value:
        from parley.comments.errors import CommentNotFound

        raise CommentNotFound()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Comment.id).where(Comment.id == comment.id).with_for_update())
    existing = session.scalar(
        select(Vote).where(Vote.comment_id == comment.id, Vote.account_id == account_id)
    )
    old = existing.value if existing is not None else 0
    if old == value:
        session.refresh(comment)
        return VoteResult(comment.id, comment.up, comment.down, value, False)
    if existing is not None and value == 0:
        session.delete(existing)
    elif existing is not None:
        existing.value = value
        existing.updated_at = now
    else:
        try:
            with session.begin_nested():
                session.add(
                    Vote(
                        comment_id=comment.id,
                        account_id=account_id,
                        value=value,
                        created_at=now,
                        updated_at=now,
                    )
                )
                session.flush()
        except IntegrityError:  # unreachable with the row lock; kept as the last line of defence
            return VoteResult(comment.id, comment.up, comment.down, old, False)
    up_delta = (value == 1) - (old == 1)
    down_delta = (value == -1) - (old == -1)
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(
            up=Comment.up + up_delta,
            down=Comment.down + down_delta,
            score=Comment.score + (up_delta - down_delta),
        )
    )
    session.refresh(comment)
    comment.wilson = wilson_lower_bound(comment.up, comment.down)
    session.flush()
    bump_version(session, comment.thread_id)
    event = {"comment_id": comment.id, "thread_id": comment.thread_id, "up": comment.up, "down": comment.down}
    do_emit(session, site_id=comment.site_id, kind="vote.changed", data=event, now=now)
    return VoteResult(comment.id, comment.up, comment.down, value, True)
