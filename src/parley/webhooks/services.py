"""Use cases of webhooks: add, list, delete, re-enable, test, and read the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.errors import ValidationFailed
from parley.sites.models import Site
from parley.webhooks import signing
from parley.webhooks.dispatch import forget_active_hooks
from parley.webhooks.errors import WebhookNotFound, WebhookTargetRefused
from parley.webhooks.events import WEBHOOK_EVENTS
from parley.webhooks.models import Webhook, WebhookDelivery
from parley.webhooks.targets import Resolver, TargetRefused, resolve_target, system_resolver

MAX_PER_SITE = 20


def check_events(events: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(e.strip() for e in events if e.strip())) or ["*"]
    unknown = [e for e in chosen if e != "*" and e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationFailed(
            [{"field": "events", "code": "unknown_event", "message": f"unknown event {unknown[0][:64]!r}"}]
        )
    return chosen


def check_target(url: str, allowed: Sequence[str], resolver: Resolver = system_resolver) -> str:
    """The URL must be well-formed and resolve to an address webhooks may reach, now already."""
    url = url.strip()
    if len(url) > 2048:
        raise WebhookTargetRefused(extra={"reason": "The URL is too long."})
    try:
        resolve_target(url, allowed, resolver)
    except TargetRefused as exc:
        raise WebhookTargetRefused(extra={"reason": str(exc)}) from None
    return url


def do_create_webhook(
    session: Session,
    site: Site,
    *,
    url: str,
    events: Sequence[str],
    now: datetime,
    allowed: Sequence[str] = (),
    description: str = "",
    resolver: Resolver = system_resolver,
) -> Webhook:
    """Add a webhook; its secret is in the returned object (show it once)."""
    url = check_target(url, allowed, resolver)
    chosen = check_events(events)
    count = len(list(session.scalars(select(Webhook.id).where(Webhook.site_id == site.id))))
    if count >= MAX_PER_SITE:
        raise ValidationFailed([{"field": "url", "code": "too_many", "message": f"at most {MAX_PER_SITE}"}])
    hook = Webhook(
        site_id=site.id,
        url=url,
        events=chosen,
        secret=signing.new_secret(),
        description=" ".join(description.split())[:200],
        created_at=now,
    )
    session.add(hook)
    session.flush()
    forget_active_hooks(session)
    return hook


def access_webhook(session: Session, site: Site, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.site_id != site.id:
        raise WebhookNotFound()
    return hook


def list_webhooks(session: Session, site: Site) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.site_id == site.id).order_by(Webhook.id)))


def do_delete_webhook(session: Session, hook: Webhook) -> None:
    session.delete(hook)
    session.flush()


def do_enable_webhook(session: Session, hook: Webhook) -> Webhook:
    hook.active = True
    hook.consecutive_failures = 0
    hook.disabled_reason = None
    session.flush()
    forget_active_hooks(session)
    return hook


def recent_deliveries(session: Session, hook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def webhook_out(hook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "events": list(hook.events or []),
        "description": hook.description,
        "active": hook.active,
        "consecutive_failures": hook.consecutive_failures,
        "disabled_reason": hook.disabled_reason,
        "created_at": _iso(hook.created_at),
        "last_success_at": _iso(hook.last_success_at),
        "last_failure_at": _iso(hook.last_failure_at),
    }
    if with_secret:
        out["secret"] = hook.secret
    return out


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event": d.kind,
        "status": d.status,
        "attempts": d.attempts,
        "response_status": d.response_status,
        "error": d.error,
        "duration_ms": d.duration_ms,
        "created_at": _iso(d.created_at),
        "last_attempt_at": _iso(d.last_attempt_at),
        "delivered_at": _iso(d.delivered_at),
    }
