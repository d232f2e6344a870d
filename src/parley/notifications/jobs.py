"""The mail job: read the recipient when sending, render in their language, hand to the transport.

The recipient is an account (payload ``account_id``) or, for the confirmation of a sign-up, a
pending registration (``pending_id``). Raising retries with backoff (SMTP down, greylisting); a
recipient without an address — erased since the mail was queued, or a sign-up that expired or was
confirmed meanwhile — is not an error: there is nobody to send to.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley import i18n
from parley.accounts.models import Account
from parley.jobs.services import JobContext, do_enqueue, handler
from parley.notifications import rendering, services
from parley.notifications.mail import transport_for

log = logging.getLogger("parley.notifications")

SUBJECTS = {
    "reply": "New reply to your comment",
    "decision": "A decision about your comment",
    "appeal": "Your appeal was decided",
    "digest": "Moderation digest",
    "register_confirm": "Confirm your sign-up",
    "register_existing": "Sign-up with your e-mail address",
}


def recipient_locale(session: Session, account: Account, fallback: str) -> str:
    prefs = services.preferences(session, account.id)
    return i18n.negotiate([prefs.locale, account.locale, fallback])


def _thread_title(session: Session, thread_id: int) -> tuple[str, str]:
    from parley.comments.models import Thread

    thread = session.get(Thread, thread_id)
    if thread is None:
        return "", ""
    return thread.title or thread.key, thread.url


def _site_locale(session: Session, site_id: int | None, default: str) -> str:
    from parley.sites.models import Site

    site = session.get(Site, site_id) if site_id else None
    return site.policy().locale if site is not None else default


def build_context(
    session: Session, registry: Any, account: Account, payload: dict[str, Any]
) -> tuple[str, dict[str, Any], str | None, str] | None:
    """``(template, params, unsubscribe kind, locale)`` for a payload, or None when moot."""
    from parley.comments.models import Comment
    from parley.moderation import messages
    from parley.moderation.models import ModerationDecision
    from parley.moderation.types import Verdict

    settings = registry.settings
    template = str(payload["template"])
    params: dict[str, Any] = {"recipient_name": account.display_name}
    public = settings.public_url.rstrip("/")
    site_id: int | None = None
    unsubscribe: str | None = None
    comment: Comment | None = None
    if template in ("reply", "decision", "appeal"):
        comment = session.get(Comment, int(payload["comment_id"]))
        if comment is None:
            return None
        site_id = comment.site_id
        title, url = _thread_title(session, comment.thread_id)
        params["thread_title"] = title
        params["link"] = (url or public) + f"#comment-{comment.id}"
        if template == "reply":
            if comment.status != "published":
                return None  # withdrawn again before the mail went out
            params["author_name"] = comment.author_name
            unsubscribe = "reply"
        elif template == "decision":
            if comment.status not in ("held", "rejected"):
                return None  # decided otherwise meanwhile
            unsubscribe = "decision"
    elif template == "digest":
        from parley.comments.models import Report
        from parley.sites.models import Site

        site = session.get(Site, int(payload["site_id"]))
        if site is None:
            return None
        site_id = site.id
        params["site_name"] = site.name
        params["held"] = session.scalar(
            select(func.count(Comment.id)).where(Comment.site_id == site.id, Comment.status == "held")
        )
        params["reports"] = session.scalar(
            select(func.count(Report.id)).where(Report.site_id == site.id, Report.status == "open")
        )
        params["link"] = public + "/moderate"
        unsubscribe = "digest"
    elif template == "register_existing":
        # someone signed up with this account's address: no unsubscribe (it is about the account)
        from parley.accounts.confirmation import return_url

        site_id = account.home_site_id
        params["link"] = return_url(session, site_id, public)
        params["password_login"] = account.password_hash is not None  # else: the publisher's login (SSO)
    else:
        raise ValueError(f"unknown mail template {template!r}")
    locale = recipient_locale(session, account, _site_locale(session, site_id, settings.default_locale))
    if template == "decision" and comment is not None:
        record = session.scalar(
            select(ModerationDecision)
            .where(ModerationDecision.comment_id == comment.id)
            .order_by(ModerationDecision.id.desc())
            .limit(1)
        )
        reasons: list[str] = []
        statement_url = None
        if record is not None:
            for r in record.reasons or []:
                if r.get("verdict", "hold") == "publish":
                    continue
                verdict = Verdict(r.get("verdict", "hold"))
                text = messages.explain(str(r.get("code")), r.get("params") or {}, verdict, locale)
                reasons.append(r.get("detail", "") if text == r.get("code") else text)
            if record.note:
                reasons.append(record.note)
            if record.statement_token:
                statement_url = f"{public}/statements/{record.statement_token}"
        params["status"] = comment.status
        params["reasons"] = reasons or [i18n.gettext(locale, "A moderator decided so.")]
        params["statement_url"] = statement_url
    if template == "appeal":
        params["upheld"] = bool(payload.get("upheld"))
        params["reason"] = payload.get("reason") or ""
        params["statement_url"] = payload.get("statement_url")
    return template, params, unsubscribe, locale


def build_pending_context(
    session: Session, registry: Any, payload: dict[str, Any]
) -> tuple[str, str, dict[str, Any], str] | None:
    """``(address, template, params, locale)`` of a mail to a pending sign-up, or None when the
    sign-up is gone (confirmed, expired, purged): the link could not work any more."""
    from parley.accounts import confirmation
    from parley.accounts.models import PendingRegistration

    settings = registry.settings
    template = str(payload["template"])
    if template != "register_confirm":
        raise ValueError(f"unknown mail template for a pending sign-up {template!r}")
    pending = session.get(PendingRegistration, int(payload["pending_id"]))
    if pending is None or pending.expires_at <= registry.clock.now():
        return None
    token = confirmation.confirmation_token(settings.secret, pending)
    params: dict[str, Any] = {
        "recipient_name": pending.name,
        "link": confirmation.confirmation_url(settings.public_url, token),
        "hours": int(confirmation.PENDING_LIFETIME.total_seconds() // 3600),
    }
    site_locale = _site_locale(session, pending.site_id, settings.default_locale)
    return pending.email, template, params, i18n.negotiate([pending.locale, site_locale])


def _deliver(
    registry: Any, template: str, locale: str, params: dict[str, Any], to: str, unsubscribe: str | None = None
) -> None:
    """Render ``template`` in ``locale`` and hand the message to the transport."""
    rendered = rendering.render(template, locale, SUBJECTS[template], params)
    message = rendering.build_message(
        rendered, sender=registry.settings.mail_from, to=to, unsubscribe_url=unsubscribe
    )
    transport_for(registry).send(message)


def _send_to_pending(ctx: JobContext, payload: dict[str, Any]) -> None:
    registry = ctx.registry
    with registry.db.read() as session:
        built = build_pending_context(session, registry, payload)
    if built is None:
        return
    to, template, params, locale = built
    _deliver(registry, template, locale, params, to)
    log.info("sent %s mail to pending registration %s (job %s)", template, payload["pending_id"], ctx.job_id)


@handler(services.MAIL_JOB)
def send_mail(ctx: JobContext, payload: dict[str, Any]) -> None:
    if "pending_id" in payload:
        _send_to_pending(ctx, payload)
        return
    registry = ctx.registry
    settings = registry.settings
    with registry.db.read() as session:
        account = session.get(Account, int(payload["account_id"]))
        if account is None or not account.email:
            return
        built = build_context(session, registry, account, payload)
        if built is None:
            return
        template, params, unsubscribe_kind, locale = built
        to = account.email
    unsubscribe = None
    if unsubscribe_kind:
        unsubscribe = services.unsubscribe_url(
            settings.public_url, settings.secret, int(payload["account_id"]), unsubscribe_kind
        )
        params["unsubscribe_url"] = unsubscribe
    _deliver(registry, template, locale, params, to, unsubscribe)
    log.info("sent %s mail to account %s (job %s)", template, payload["account_id"], ctx.job_id)


DIGEST_JOB = "notifications.digest"


def do_schedule_daily_digest(session: Session, now: Any, delay: float = 0) -> bool:
    """Queue the digest run (once per day: a second call for the same day does nothing)."""
    from datetime import datetime

    day = datetime.fromtimestamp(now.timestamp() + delay, tz=now.tzinfo).date().isoformat()
    job = do_enqueue(session, DIGEST_JOB, {"daily": True}, now, delay=delay, dedupe_key=f"{DIGEST_JOB}:{day}")
    return job is not None


@handler(DIGEST_JOB)
def digest(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Queue the moderators' digests; with ``daily``, queue tomorrow's run too."""
    registry = ctx.registry
    with registry.db.write() as session:
        now = registry.clock.now()
        queued = services.do_queue_digests(session, now)
        if payload.get("daily"):
            do_schedule_daily_digest(session, now, delay=86400.0)
    log.info("queued %s digest mails", queued)
