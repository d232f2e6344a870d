"""Use cases of the moderation domain that other domains call: record a decision, feed the stores."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.db.stored import add_as_stored
from parley.errors import AppError, ErrorCode, RateLimited
from parley.moderation.backends import author_key
from parley.moderation.context import ModerationContext
from parley.moderation.copies import CommentKey, CopyEntry, fingerprint
from parley.moderation.models import ModerationDecision
from parley.moderation.phases.copies import WAVE, context_fingerprint
from parley.moderation.phases.rate import rate_keys
from parley.moderation.types import Decision, Refusal, Verdict


def needs_statement(status_after: str) -> bool:
    """DSA Art. 17: every restriction (hold, rejection, removal) gets a statement of reasons."""
    return status_after in ("held", "rejected")


def do_record_decision(
    session: Session,
    *,
    site_id: int,
    comment_id: int,
    decision: Decision,
    status_before: str | None,
    status_after: str,
    now: datetime,
    trigger: str = "create",
    decision_id: int | None = None,
) -> ModerationDecision:
    """Store the pipeline's decision with every reason, score and model version.

    Written without the ORM's flush (:func:`~parley.db.stored.add_as_stored`: every POST records
    one inside the writers' lock); the record is in ``session`` as stored, changes to it are flushed.
    ``decision_id``: the record's id, if drawn already (a POST's: the INSERT is then deferred)."""
    values: dict[str, Any] = {} if decision_id is None else {"id": decision_id}
    values |= {
        "site_id": site_id,
        "comment_id": comment_id,
        "verdict": decision.verdict.value,
        "status_before": status_before,
        "status_after": status_after,
        "reasons": [r.to_record() for r in decision.reasons],
        "scores": dict(decision.scores),
        "model_versions": dict(decision.model_versions),
        "actor_kind": "system",
        "automated": True,
        "trigger": trigger,
        "statement_token": secrets.token_urlsafe(18) if needs_statement(status_after) else None,
        "created_at": now,
    }
    record = add_as_stored(session, ModerationDecision, values)
    if needs_statement(status_after) or status_before is not None:
        _audit_decision(session, record)
    return record


def _audit_decision(session: Session, record: ModerationDecision) -> None:
    """The audit log's line for an automated decision: which phases, which codes, before and after.

    Restrictions and changes of existing comments (edits, reports) are audited; a new comment the
    pipeline simply publishes is not (its decision row is the record).
    """
    from parley.audit.services import do_audit_later

    restricting = [r for r in record.reasons or [] if r.get("verdict", "hold") != "publish"]
    do_audit_later(
        session,
        action="comment.moderated",
        object_type="comment",
        object_id=record.comment_id,
        site_id=record.site_id,
        actor_kind="system",
        now=record.created_at,
        data={
            "decision_id": record.id,
            "trigger": record.trigger,
            "phases": sorted({str(r.get("phase")) for r in restricting}),
            "codes": sorted({str(r.get("code")) for r in restricting}),
            "before": record.status_before,
            "after": record.status_after,
        },
    )


def status_for(verdict: Verdict) -> str:
    return {Verdict.PUBLISH: "published", Verdict.HOLD: "held", Verdict.REJECT: "rejected"}[verdict]


def do_record_outcome(
    ctx: ModerationContext, decision: Decision, *, comment_id: CommentKey, new_comment: bool = False
) -> CommentKey | None:
    """Feed a decision back into the stores, once the comment is stored under ``comment_id``.

    Precondition: the pipeline ran on ``ctx`` and produced ``decision``; call it in the same unit of
    work that stores the comment. A refused comment was not stored and records nothing. Records:
    a rate event per key (when the time is known and the policy's rate limits are on: only the rate
    phase reads them; not for edits), the verdict in the author's history (not for edits), and a
    published comment in the copy index. Returns the copy wave the comment joined, if it is a copy
    (the id of the wave's first comment), else None.
    ``new_comment``: the comment was inserted in this unit of work (a POST), so the copy index has
    nothing of it to replace.
    """
    backends = ctx.backends
    if backends is None or decision.refusal is not None:
        return None
    wave: CommentKey | None = ctx.memo.get(WAVE)
    if not ctx.is_edit:
        # Events nobody counts are not kept: with several workers or Redis the store is another
        # file or server, written inside the writers' lock (~0.3 ms of a POST's ~4.5 there, measured)
        if ctx.timed and ctx.policy.rate.enabled:
            backends.rates.record_each(rate_keys(ctx), ctx.now.timestamp())
        backends.history.record(author_key(ctx.author), decision.verdict)
    copies = ctx.policy.copies
    if (
        decision.verdict is Verdict.PUBLISH
        and copies.enabled
        and len(ctx.normalized.words) >= copies.min_words
    ):
        fp = context_fingerprint(ctx)
        if fp is not None:
            entry = CopyEntry(
                comment_id=comment_id,
                author=author_key(ctx.author),
                ts=ctx.now.timestamp(),
                signature=fp.signature,
                wave_id=wave if wave is not None else comment_id,
            )
            backends.copies.add(ctx.site_slug, entry, fp.bands, fresh=new_comment)
    return wave


def refusal_error(refusal: Refusal) -> AppError:
    """The :class:`~parley.errors.AppError` a refusal becomes in the API (429s carry Retry-After)."""
    if refusal.error_code == ErrorCode.RATE_LIMITED:
        return RateLimited(float(refusal.params.get("retry_after", 1)))
    code = ErrorCode(refusal.error_code)
    return AppError(refusal.message, code=code, status=refusal.status, params=dict(refusal.params))


def do_index_published(session: Session, comment: Any, now: datetime) -> None:
    """Put a comment a person just published (approved, appeal reversed) into the copy index.

    The pipeline indexes what it publishes itself (:func:`do_record_outcome`); a held comment that a
    moderator approves would otherwise never be found as the original of later copies.
    """
    from parley.moderation.normalize import normalize
    from parley.moderation.sql import SqlCopyIndex
    from parley.sites.models import Site

    site = session.get(Site, comment.site_id)
    if site is None:
        return
    copies = site.policy().moderation.copies
    words = normalize(comment.body_text or "").words
    if not copies.enabled or len(words) < copies.min_words:
        return
    fp = fingerprint(words)
    if fp is None:
        return
    tags = (comment.flags or {}).get("tags", [])
    wave = next((int(t.split(":", 1)[1]) for t in tags if t.startswith("copy_wave:")), comment.id)
    author = f"acct:{comment.author_id}" if comment.author_id is not None else f"comment:{comment.id}"
    entry = CopyEntry(
        comment_id=comment.id, author=author, ts=now.timestamp(), signature=fp.signature, wave_id=wave
    )
    SqlCopyIndex(session).add(site.slug, entry, fp.bands)
