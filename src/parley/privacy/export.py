"""Everything Parley holds about one account, as JSON (GDPR Art. 15 access, Art. 20 portability).

Other domains add their sections with :func:`register_section` (appeals, from the workspace issue),
so this module never has to know their tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.confirmation import pending_for
from parley.accounts.models import (
    Account,
    ApiToken,
    NameChange,
    SessionRecord,
    SsoIdentity,
)
from parley.appeals.models import Appeal
from parley.comments.models import Comment, CommentRevision, Report, Thread, Vote
from parley.moderation.models import ModerationDecision
from parley.notifications.models import Notification
from parley.notifications.services import preferences
from parley.sites.models import Site
from parley.workspace.models import Sanction

Section = Callable[[Session, int], Any]
_SECTIONS: dict[str, Section] = {}


def register_section(name: str, fn: Section) -> None:
    """Add ``name`` to every export, computed by ``fn(session, account_id)``."""
    _SECTIONS[name] = fn


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _pending(session: Session, account: Account, sites: dict[int, str]) -> list[dict[str, Any]]:
    """Sign-ups to the account's address still waiting for their confirmation (never the hash)."""
    return [
        {
            "name": p.name,
            "email": p.email,
            "site": sites.get(p.site_id) if p.site_id else None,
            "created_at": _iso(p.created_at),
            "expires_at": _iso(p.expires_at),
        }
        for p in pending_for(session, account)
    ]


def collect(session: Session, account_id: int, public_url: str) -> dict[str, Any] | None:
    """The export for ``account_id``; None when the account does not exist."""
    account = session.get(Account, account_id)
    if account is None:
        return None
    public = public_url.rstrip("/")
    sites = {s.id: s.slug for s in session.scalars(select(Site))}
    threads: dict[int, Thread] = {}

    def thread(tid: int) -> Thread | None:
        if tid not in threads:
            found = session.get(Thread, tid)
            if found is None:
                return None
            threads[tid] = found
        return threads[tid]

    comments = list(
        session.scalars(select(Comment).where(Comment.author_id == account_id).order_by(Comment.id))
    )
    ids = [c.id for c in comments]
    revisions: dict[int, list[dict[str, Any]]] = {}
    decisions: list[dict[str, Any]] = []
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for rev in session.scalars(select(CommentRevision).where(CommentRevision.comment_id.in_(chunk))):
            revisions.setdefault(rev.comment_id, []).append(
                {"body": rev.body_source, "replaced_at": _iso(rev.created_at)}
            )
        for d in session.scalars(
            select(ModerationDecision)
            .where(ModerationDecision.comment_id.in_(chunk))
            .order_by(ModerationDecision.id)
        ):
            decisions.append(
                {
                    "comment_id": d.comment_id,
                    "verdict": d.verdict,
                    "status_before": d.status_before,
                    "status_after": d.status_after,
                    "automated": d.automated,
                    "reasons": [
                        {"phase": r.get("phase"), "code": r.get("code"), "detail": r.get("detail")}
                        for r in d.reasons or []
                    ],
                    "reason_code": d.reason_code,
                    "note": d.note,
                    "statement_url": f"{public}/statements/{d.statement_token}"
                    if d.statement_token
                    else None,
                    "created_at": _iso(d.created_at),
                }
            )
    out_comments = []
    for c in comments:
        t = thread(c.thread_id)
        out_comments.append(
            {
                "id": c.id,
                "site": sites.get(c.site_id),
                "thread": {"key": t.key, "title": t.title, "url": t.url} if t else None,
                "parent_id": c.parent_id,
                "status": c.status,
                "name_shown": c.author_name,
                "body": c.body_source,
                "created_at": _iso(c.created_at),
                "edited_at": _iso(c.edited_at),
                "deleted_at": _iso(c.deleted_at),
                "up": c.up,
                "down": c.down,
                "earlier_versions": revisions.get(c.id, []),
            }
        )
    votes = [
        {
            "comment_id": v.comment_id,
            "value": v.value,
            "created_at": _iso(v.created_at),
            "updated_at": _iso(v.updated_at),
        }
        for v in session.scalars(select(Vote).where(Vote.account_id == account_id).order_by(Vote.id))
    ]
    reports = [
        {
            "comment_id": r.comment_id,
            "reason": r.reason,
            "detail": r.detail,
            "contact": r.reporter_contact,
            "status": r.status,
            "outcome": r.outcome,
            "created_at": _iso(r.created_at),
        }
        for r in session.scalars(select(Report).where(Report.reporter_id == account_id).order_by(Report.id))
    ]
    prefs = preferences(session, account_id)
    data: dict[str, Any] = {
        "format": "parley-personal-data",
        "version": 1,
        "profile": {
            "id": account.id,
            "name": account.display_name,
            "email": account.email,
            "kind": account.kind,
            "role": account.role,
            "verified": account.verified,
            "status": account.status,
            "locale": account.locale,
            "created_at": _iso(account.created_at),
            "last_login_at": _iso(account.last_login_at),
            "name_history": [
                {"old": n.old_name, "new": n.new_name, "at": _iso(n.created_at)}
                for n in session.scalars(select(NameChange).where(NameChange.account_id == account_id))
            ],
            "sso_identities": [
                {"site": sites.get(i.site_id), "subject": i.subject, "linked_at": _iso(i.created_at)}
                for i in session.scalars(select(SsoIdentity).where(SsoIdentity.account_id == account_id))
            ],
        },
        "sessions": [
            {
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "expires_at": _iso(s.expires_at),
            }
            for s in session.scalars(select(SessionRecord).where(SessionRecord.account_id == account_id))
        ],
        "api_tokens": [
            {"name": t.name, "created_at": _iso(t.created_at), "revoked_at": _iso(t.revoked_at)}
            for t in session.scalars(select(ApiToken).where(ApiToken.account_id == account_id))
        ],
        "pending_registrations": _pending(session, account, sites),
        "comments": out_comments,
        "votes": votes,
        "reports": reports,
        "moderation_decisions": decisions,
        "notifications": [
            {"kind": n.kind, "data": n.data, "created_at": _iso(n.created_at), "read_at": _iso(n.read_at)}
            for n in session.scalars(select(Notification).where(Notification.account_id == account_id))
        ],
        "notification_settings": {
            "reply_emails": prefs.reply_emails,
            "decision_emails": prefs.decision_emails,
            "digest_emails": prefs.digest_emails,
        },
        "appeals": [
            {
                "comment_id": a.comment_id,
                "text": a.text,
                "status": a.status,
                "outcome_reason": a.outcome_reason,
                "created_at": _iso(a.created_at),
                "decided_at": _iso(a.decided_at),
            }
            for a in session.scalars(select(Appeal).where(Appeal.author_id == account_id).order_by(Appeal.id))
        ],
        "sanctions": [
            {
                "kind": x.kind,
                "reason_code": x.reason_code,
                "note": x.note,
                "until": _iso(x.until),
                "at": _iso(x.created_at),
            }
            for x in session.scalars(
                select(Sanction).where(Sanction.account_id == account_id).order_by(Sanction.id)
            )
        ],
    }
    for name, fn in _SECTIONS.items():
        data[name] = fn(session, account_id)
    return data
