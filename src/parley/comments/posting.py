"""POST a comment: resolve the author (account, SSO reader or guest), the thread and the parent,
render, moderate, store, and record the decision — one unit of work.

The path of a comment, in order: ``views.create_comment`` → :func:`do_post_comment` →
``rendering.render`` → ``moderation.pipeline.Pipeline.run`` → ``services.do_insert_comment`` →
``moderation.services.do_record_decision`` → commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.accounts import services as accounts
from parley.accounts import sso
from parley.accounts.models import Account
from parley.accounts.principal import Principal
from parley.accounts.services import NewSession
from parley.comments import rendering, services, threads
from parley.comments.errors import GuestsNotAllowed
from parley.comments.models import Comment
from parley.comments.schemas import CommentCreate
from parley.db.direct import Along
from parley.errors import ValidationFailed
from parley.moderation.models import ModerationDecision
from parley.moderation.pipeline import Pipeline
from parley.moderation.services import do_record_outcome, status_for
from parley.moderation.sql import SqlCopyIndex
from parley.moderation.types import Decision
from parley.sites.models import Site
from parley.sites.policy import SiteSettings
from parley.webhooks.dispatch import know_active_hooks
from parley.webhooks.events import comment_data, do_emit


@dataclass(frozen=True, slots=True)
class Posted:
    comment: Comment
    decision: Decision
    record: ModerationDecision
    author: Account
    new_session: NewSession | None


def do_resolve_author(
    session: Session,
    *,
    site: Site,
    policy: SiteSettings,
    principal: Principal,
    author_name: str | None,
    email: str | None,
    now: datetime,
    session_days: int,
    secret: bytes,
    reserved: tuple[list[str], list[str]] | None = None,
    memo: dict[str, Any] | None = None,
) -> tuple[Account, NewSession | None]:
    """The account the comment is written under; a guest gets a guest account and a session.
    ``reserved``: the reserved names a guest's name is checked against, if the caller keeps them;
    ``memo``: the moderation memo, whose name holders looked up ahead are used (``names.HOLDERS``)."""
    if principal.sso_claims is not None and principal.account_id is None:
        account = sso.do_link_sso_account(session, site, principal.sso_claims, now)
        accounts.check_can_act(account, now)
        return account, None
    if principal.account_id is not None:
        found = session.get(Account, principal.account_id)
        if found is None:
            raise GuestsNotAllowed()
        accounts.check_can_act(found, now)
        if found.kind == "guest" and author_name and author_name.strip() != found.display_name:
            accounts.do_rename(session, found, author_name, now)
        return found, None
    if not policy.guests_allowed:
        raise GuestsNotAllowed()
    if not author_name or not author_name.strip():
        raise ValidationFailed([{"field": "author_name", "code": "missing", "message": "guests need a name"}])
    account = accounts.do_get_or_create_guest(
        session, author_name, email, now, site.id, secret, reserved=reserved, known=memo
    )
    return account, accounts.do_create_session(session, account, now, session_days)


def do_post_comment(
    session: Session,
    *,
    site: Site,
    principal: Principal,
    payload: CommentCreate,
    thread_key: str,
    pipeline: Pipeline,
    backends: Any,
    ip_hash: str | None,
    now: datetime,
    session_days: int,
    secret: bytes,
    body: rendering.RenderedBody | None = None,
    memo: dict[str, Any] | None = None,
    reserved: tuple[list[str], list[str]] | None = None,
    along: Sequence[Along] = (),
) -> Posted:
    """Store the comment. ``body``, ``memo`` and ``reserved`` are the rendered body,
    :func:`services.prepare_moderation`'s work and the reserved names, when the caller has them
    from before the write transaction (as the API does); otherwise they are done here. ``along``:
    the caller's reads to run with the POST's first one (:func:`threads.do_open_post`), as the
    copies phase's look-up in the index is (``SqlCopyIndex.read_along``)."""
    policy = site.policy()
    reads = list(along)
    if payload.parent_id is not None:  # a reply: its parent read with the rest
        reads.append(services.parent_along(session, payload.parent_id))
    copies = getattr(backends, "copies", None)
    if memo is not None and isinstance(copies, SqlCopyIndex):
        copies_read = copies.read_along(site.id, memo)  # the copies phase's look-up, read ahead
        if copies_read is not None:
            reads.append(copies_read)
    guest = principal.posts_as_guest
    thread, (comment_id, decision_id), hooks, guest_id = threads.do_open_post(
        session,
        site,
        thread_key,
        now,
        title=payload.title,
        url=payload.url,
        policy=policy,
        along=reads,
        guest=guest and memo is not None,
    )
    if guest_id is not None and memo is not None:
        memo[accounts.NEW_GUEST_ID] = guest_id  # a new guest's INSERT then waits with the other writes
    if hooks is not None:
        know_active_hooks(session, site.id, hooks)
    parent = services.check_parent(session, thread, payload.parent_id)
    author, new_session = do_resolve_author(
        session,
        site=site,
        policy=policy,
        principal=principal,
        author_name=payload.author_name,
        email=payload.email,
        now=now,
        session_days=session_days,
        secret=secret,
        reserved=reserved,
        memo=memo,
    )
    if body is None:
        body = services.render_body(payload.body, policy)
    mctx, decision = services.run_pipeline(
        pipeline,
        body=body,
        author=services.author_info(author, ip_hash, principal.session_token),
        thread=services.thread_info(thread, now),
        site=site,
        policy=policy,
        now=now,
        backends=backends,
        parent_id=parent.id if parent else None,
        memo=memo,
    )
    status = status_for(decision.verdict)
    comment = services.do_insert_comment(
        session,
        site=site,
        thread=thread,
        parent=parent,
        author=author,
        body=body,
        status=status,
        now=now,
        ip_hash=ip_hash,
        flags={"tags": sorted(decision.tags)} if decision.tags else None,
        comment_id=comment_id,
    )
    record = services.do_record_moderation(
        session, comment, decision, None, now, "create", decision_id=decision_id
    )
    do_record_outcome(mctx, decision, comment_id=comment.id, new_comment=True)
    data = comment_data(session, comment, thread)
    do_emit(session, site_id=site.id, kind="comment.created", data=data, now=now)
    return Posted(comment, decision, record, author, new_session)
