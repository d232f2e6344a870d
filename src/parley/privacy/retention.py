"""Retention: keyed IP hashes, rate-limit traces, old delivery logs and unconfirmed sign-ups (an
address someone typed) do not live forever.

``parley privacy purge`` (daily from cron, or the ``privacy.purge`` job) runs :func:`do_purge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from parley.accounts.confirmation import do_purge_expired
from parley.accounts.models import UsedTokenId
from parley.comments.models import Comment, IdempotencyRecord, Report
from parley.config import Settings
from parley.webhooks.models import DeliveryStatus, WebhookDelivery

DELIVERY_LOG_DAYS = 30


@dataclass(frozen=True, slots=True)
class PurgeResult:
    comment_ip_hashes: int
    report_ip_hashes: int
    idempotency_records: int
    used_token_ids: int
    webhook_deliveries: int
    pending_registrations: int = 0


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def do_purge(session: Session, settings: Settings, now: datetime) -> PurgeResult:
    ip_cutoff = now - timedelta(days=settings.ip_hash_retention_days)
    rate_cutoff = now - timedelta(hours=settings.rate_limit_retention_hours)
    comments = session.execute(
        update(Comment)
        .where(Comment.ip_hash.is_not(None), Comment.created_at < ip_cutoff)
        .values(ip_hash=None)
    )
    reports = session.execute(
        update(Report).where(Report.ip_hash.is_not(None), Report.created_at < ip_cutoff).values(ip_hash=None)
    )
    idem = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < rate_cutoff))
    jtis = session.execute(delete(UsedTokenId).where(UsedTokenId.expires_at < now))
    deliveries = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.created_at < now - timedelta(days=DELIVERY_LOG_DAYS),
            WebhookDelivery.status != DeliveryStatus.PENDING.value,
        )
    )
    # a sign-up nobody confirmed: also removed by the next registration, but a quiet site has none
    pending = do_purge_expired(session, now)
    return PurgeResult(
        _count(comments), _count(reports), _count(idem), _count(jtis), _count(deliveries), pending
    )
