"""Erase an account (GDPR Art. 17): ``DELETE /api/v1/me`` and ``parley users erase ID``.

What happens, in one transaction:

- the person's comments are anonymised (text kept, no author) or removed (text gone, a tombstone keeps
  the replies of others in place), as each comment's site configures (``SiteSettings.erasure``);
  their earlier versions are deleted in both cases, and their IP hashes;
- their votes are removed and every affected comment's counters and score are corrected;
- their reports and appeals stay (moderation records) without reporter, contact, IP hash or name;
- their name is scrubbed from the reasons of moderation decisions about their comments (a name check
  may have quoted it);
- sessions, API tokens, SSO links, rename history, notifications and preferences are deleted with the
  account row, and sign-ups waiting for a confirmation to the account's address (name, address,
  password hash); cached thread pages are invalidated (thread versions bumped) and the moderation
  stores forget the author;
- the audit log records ``account.erased`` with counts only — no name, no address.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from parley.accounts.confirmation import do_forget_pending
from parley.accounts.models import Account, NameChange
from parley.appeals.models import Appeal
from parley.audit.services import do_audit
from parley.comments.models import Comment, CommentRevision, CommentStatus, Report, Vote
from parley.comments.scoring import wilson_lower_bound
from parley.comments.services import apply_status_change
from parley.comments.threads import bump_version
from parley.errors import NotFound
from parley.importers.models import ImportRef
from parley.moderation.backends import ModerationBackends
from parley.moderation.models import ModerationDecision
from parley.sites.models import Site

log = logging.getLogger("parley.privacy")
ERASED = "[erased]"


@dataclass(frozen=True, slots=True)
class ErasureResult:
    account_id: int
    comments_anonymized: int
    comments_removed: int
    votes_removed: int
    reports_detached: int
    decisions_scrubbed: int
    pending_registrations: int = 0


def _scrub(value: Any, names: list[str]) -> Any:
    text = json.dumps(value, ensure_ascii=False)
    changed = text
    for name in names:
        changed = changed.replace(json.dumps(name, ensure_ascii=False)[1:-1], ERASED)
    return value if changed == text else json.loads(changed)


def _remove_votes(session: Session, account_id: int, now: datetime) -> tuple[int, set[int]]:
    votes = list(session.scalars(select(Vote).where(Vote.account_id == account_id)))
    threads: set[int] = set()
    for vote in votes:
        up, down = int(vote.value == 1), int(vote.value == -1)
        session.execute(
            update(Comment)
            .where(Comment.id == vote.comment_id)
            .values(up=Comment.up - up, down=Comment.down - down, score=Comment.score - (up - down))
        )
        session.delete(vote)
    session.flush()
    for chunk in (votes[i : i + 500] for i in range(0, len(votes), 500)):
        ids = [v.comment_id for v in chunk]
        for comment in session.scalars(select(Comment).where(Comment.id.in_(ids))):
            session.refresh(comment)
            comment.wilson = wilson_lower_bound(comment.up, comment.down)
            threads.add(comment.thread_id)
    session.flush()
    return len(votes), threads


def do_erase_account(
    session: Session,
    account_id: int,
    now: datetime,
    *,
    actor_kind: str = "self",
    actor_id: int | None = None,
    backends: ModerationBackends | None = None,
) -> ErasureResult:
    """Erase ``account_id``. Precondition: the caller authorized it (the person, or an admin)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    names = [account.display_name]
    names += [
        n.old_name for n in session.scalars(select(NameChange).where(NameChange.account_id == account_id))
    ]
    names = sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True)
    skeleton = account.name_skeleton

    votes_removed, threads = _remove_votes(session, account_id, now)

    modes = {s.id: s.policy().erasure for s in session.scalars(select(Site))}
    anonymized = removed = 0
    comment_ids: list[int] = []
    for comment in session.scalars(
        select(Comment).where(Comment.author_id == account_id).order_by(Comment.id)
    ):
        comment_ids.append(comment.id)
        threads.add(comment.thread_id)
        comment.author_id = None
        comment.author_name = ""
        comment.ip_hash = None
        if (
            modes.get(comment.site_id, "anonymize") == "remove"
            and comment.status != CommentStatus.DELETED.value
        ):
            comment.body_source = comment.body_html = comment.body_text = ""
            comment.deleted_at = now
            apply_status_change(session, comment, CommentStatus.DELETED.value, now)
            removed += 1
        elif modes.get(comment.site_id, "anonymize") == "remove":
            comment.body_source = comment.body_html = comment.body_text = ""
            removed += 1
        else:
            anonymized += 1
    session.flush()

    scrubbed = 0
    for chunk in (comment_ids[i : i + 500] for i in range(0, len(comment_ids), 500)):
        session.execute(delete(CommentRevision).where(CommentRevision.comment_id.in_(chunk)))
        for decision in session.scalars(
            select(ModerationDecision).where(ModerationDecision.comment_id.in_(chunk))
        ):
            reasons = _scrub(decision.reasons, names)
            note = _scrub(decision.note, names) if decision.note else decision.note
            if reasons is not decision.reasons or note != decision.note:
                decision.reasons, decision.note = reasons, note
                scrubbed += 1

    for appeal in session.scalars(select(Appeal).where(Appeal.author_id == account_id)):
        # an appeal is a moderation record and stays, without the person: their name goes from its
        # texts; with "remove", their own words go too
        if modes.get(appeal.site_id or 0, "anonymize") == "remove":
            appeal.text = ""
        else:
            appeal.text = _scrub(appeal.text, names)
        appeal.outcome_reason = _scrub(appeal.outcome_reason, names) if appeal.outcome_reason else None
        appeal.author_id = None

    reports = session.execute(
        update(Report)
        .where(Report.reporter_id == account_id)
        .values(reporter_id=None, reporter_contact=None, ip_hash=None)
    )
    session.execute(delete(ImportRef).where(ImportRef.kind == "author", ImportRef.target_id == account_id))
    pending = do_forget_pending(session, account)

    for thread_id in sorted(threads):
        bump_version(session, thread_id)
    result = ErasureResult(
        account_id=account_id,
        comments_anonymized=anonymized,
        comments_removed=removed,
        votes_removed=votes_removed,
        reports_detached=int(getattr(reports, "rowcount", 0) or 0),
        decisions_scrubbed=scrubbed,
        pending_registrations=pending,
    )
    session.delete(account)  # sessions, tokens, SSO links, renames, notifications: ON DELETE CASCADE
    session.flush()
    data = {k: v for k, v in asdict(result).items() if k != "account_id"}
    do_audit(
        session,
        action="account.erased",
        object_type="account",
        object_id=account_id,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_id if actor_id != account_id else None,
        data=data,
    )
    _forget(backends, account_id, skeleton)
    log.info("account %s erased: %s", account_id, data)
    return result


def _forget(backends: ModerationBackends | None, account_id: int, skeleton: str | None) -> None:
    """Moderation stores drop what they keyed by this account (copy signatures, rate events)."""
    if backends is None:
        return
    key = f"acct:{account_id}"
    for store in (backends.history, backends.rates, backends.copies):
        store.forget(key)
    if skeleton:
        backends.names.release(skeleton, account_id)
