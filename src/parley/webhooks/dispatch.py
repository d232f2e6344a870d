"""Webhook fan-out (a :mod:`parley.webhooks.events` listener) and the delivery job."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from parley.db.direct import Direct
from parley.jobs.services import JobContext, PermanentFailure, do_enqueue, handler
from parley.sites.models import Site
from parley.web.responses import dumps
from parley.webhooks import signing
from parley.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from parley.webhooks.targets import Resolver, TargetRefused, resolve_target, system_resolver

log = logging.getLogger("parley.webhooks")

JOB_KIND = "webhooks.deliver"
USER_AGENT = "Parley-Webhooks/1"
MAX_JOB_ATTEMPTS = 20  # the handler gives up earlier, at settings.webhook_max_attempts


def _iso(now: datetime) -> str:
    return now.isoformat().replace("+00:00", "Z")


def subscribed(webhook: Webhook, kind: str) -> bool:
    events = webhook.events or []
    return kind in events or "*" in events or kind == "ping"


def do_create_delivery(
    session: Session, webhook: Webhook, kind: str, data: dict[str, Any], now: datetime, site_slug: str
) -> WebhookDelivery:
    event_id = "evt_" + secrets.token_hex(12)
    envelope = {"id": event_id, "type": kind, "created_at": _iso(now), "site": site_slug, "data": data}
    delivery = WebhookDelivery(
        webhook_id=webhook.id, event_id=event_id, kind=kind, payload=envelope, created_at=now
    )
    session.add(delivery)
    session.flush()
    return delivery


_ACTIVE = "webhooks.active"
_AHEAD = "webhooks.active_ahead"


_HOOKS = cast(Table, Webhook.__table__)
# on the driver's cursor (parley.db.direct): every POST asks, most sites have no hooks
_ACTIVE_IDS = Direct(
    select(_HOOKS.c.id)
    .where(_HOOKS.c.site_id == bindparam("site_id"), _HOOKS.c.active.is_(True))
    .order_by(_HOOKS.c.id)
)


# the same ids as one column (an array, PostgreSQL) of another read that binds ``site_id``: a
# POST's read of its thread takes them along (comments.threads.do_open_post), see know_active_hooks
ACTIVE_IDS_COLUMN = (
    select(func.array_agg(aggregate_order_by(_HOOKS.c.id, _HOOKS.c.id)))
    .where(_HOOKS.c.site_id == bindparam("site_id"), _HOOKS.c.active.is_(True))
    .scalar_subquery()
)


def _read_active_ids(session: Session, site_id: int) -> list[int]:
    return [row[0] for row in _ACTIVE_IDS.rows(session, {"site_id": site_id})]


def active_hook_ids(session: Session, site_id: int) -> list[int]:
    """Ids of the site's active webhooks, read once per transaction.

    A POST emits two events (``comment.published``, ``comment.created``); both fan out to the same
    hooks, so the second one need not ask again, and most sites have none, so only ids are read
    (a Core query: no ORM objects until there is something to deliver). The list is kept for the
    session's current transaction only; :func:`forget_active_hooks` drops it when this transaction
    adds or re-enables a webhook (a deactivation shows on the loaded object, see :func:`on_event`).
    Ids handed to the session by :func:`know_active_hooks` are used without a query.
    """
    ahead: dict[int, list[int]] | None = session.info.get(_AHEAD)
    if ahead is not None and site_id in ahead:
        return ahead[site_id]
    txn = session.get_transaction()
    if txn is None:  # outside a transaction there is nothing to keep it for
        return _read_active_ids(session, site_id)
    held = session.info.get(_ACTIVE)
    memo: dict[int, list[int]]
    if held is not None and held[0] is txn:
        memo = held[1]
    else:
        memo = {}
        session.info[_ACTIVE] = (txn, memo)
    if site_id not in memo:
        memo[site_id] = _read_active_ids(session, site_id)
    return memo[site_id]


def know_active_hooks(session: Session, site_id: int, ids: list[int]) -> None:
    """Hand a write session the site's active webhook ids, read before its transaction (a POST reads
    them on its read session, outside the writers' lock). A webhook added in the moment between
    misses that one event; a deactivated one is still skipped (:func:`on_event` checks the row)."""
    session.info.setdefault(_AHEAD, {})[site_id] = list(ids)


def forget_active_hooks(session: Session) -> None:
    session.info.pop(_ACTIVE, None)
    session.info.pop(_AHEAD, None)


def on_event(session: Session, site_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    """Queue one delivery per active webhook of the site that subscribed to ``kind``."""
    from parley.webhooks.events import WEBHOOK_EVENTS

    if kind not in WEBHOOK_EVENTS:
        return
    ids = active_hook_ids(session, site_id)
    if not ids:
        return
    hooks = [
        h
        for h in (session.get(Webhook, i) for i in ids)
        if h is not None and h.active and subscribed(h, kind)
    ]
    if not hooks:
        return
    site = session.get(Site, site_id)
    slug = site.slug if site else ""
    for hook in hooks:
        delivery = do_create_delivery(session, hook, kind, data, now, slug)
        do_enqueue(session, JOB_KIND, {"delivery_id": delivery.id}, now, max_attempts=MAX_JOB_ATTEMPTS)


def _transport(registry: Any) -> httpx.BaseTransport | None:
    transport = registry.extras.get("webhook_transport")
    return transport if isinstance(transport, httpx.BaseTransport) else None


def _resolver(registry: Any) -> Resolver:
    found = registry.extras.get("webhook_resolver")
    return found if callable(found) else system_resolver


class AttemptResult:
    __slots__ = ("duration_ms", "error", "ok", "refused", "status")

    def __init__(self) -> None:
        self.ok = False
        self.refused = False
        self.status: int | None = None
        self.error: str | None = None
        self.duration_ms = 0


def send_once(registry: Any, url: str, secret: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
    """POST ``body`` to ``url`` once: resolve, check, connect to the checked address, no redirects."""
    settings = registry.settings
    result = AttemptResult()
    started = time.monotonic()
    try:
        target = resolve_target(url, settings.webhook_allowed_networks, _resolver(registry))
    except TargetRefused as exc:
        result.refused, result.error = True, str(exc)
        return result
    timestamp = int(registry.clock.now().timestamp())
    all_headers = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.signature_header(secret, timestamp, body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(
            transport=_transport(registry),
            timeout=settings.webhook_timeout,
            follow_redirects=False,
            trust_env=False,  # never route through an environment proxy: we connect where we checked
        ) as client:
            response = client.post(
                target.connect_url, content=body, headers=all_headers, extensions=extensions
            )
        result.status = response.status_code
        if 200 <= response.status_code < 300:
            result.ok = True
        elif 300 <= response.status_code < 400:
            result.error = "redirects are not followed"
        else:
            result.error = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        result.error = type(exc).__name__
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def attempt_delivery(
    registry: Any, delivery_id: int, attempt: int, *, final: bool = False
) -> AttemptResult | None:
    """One try of one delivery; records the outcome. None when there is nothing (left) to send."""
    settings = registry.settings
    with registry.db.read() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
        if delivery is None or webhook is None or delivery.status != DeliveryStatus.PENDING.value:
            return None
        url, secret, active = webhook.url, webhook.secret, webhook.active
        body = dumps(delivery.payload)
        headers = {"X-Parley-Event": delivery.kind, "X-Parley-Delivery": delivery.event_id}
    if not active:
        result = AttemptResult()
        result.error = "webhook disabled"
        result.refused = True
    else:
        result = send_once(registry, url, secret, body, headers)
    now = registry.clock.now()
    final = final or result.refused or attempt >= settings.webhook_max_attempts
    with registry.db.write() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
        if delivery is None or webhook is None:
            return None
        delivery.attempts = attempt
        delivery.last_attempt_at = now
        delivery.response_status = result.status
        delivery.duration_ms = result.duration_ms
        delivery.error = result.error[:300] if result.error else None
        if result.ok:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = now
            webhook.consecutive_failures = 0
            webhook.last_success_at = now
        else:
            if final:
                delivery.status = DeliveryStatus.FAILED.value
            if webhook.active:
                webhook.consecutive_failures += 1
                webhook.last_failure_at = now
                if webhook.consecutive_failures >= settings.webhook_disable_after:
                    webhook.active = False
                    webhook.disabled_reason = f"{webhook.consecutive_failures} failed attempts in a row"
                    log.warning(
                        "webhook %s disabled after %s failures", webhook.id, webhook.consecutive_failures
                    )
    return result


@handler(JOB_KIND)
def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    result = attempt_delivery(ctx.registry, int(payload["delivery_id"]), ctx.attempt)
    if result is None or result.ok:
        return
    if result.refused or ctx.attempt >= ctx.registry.settings.webhook_max_attempts:
        raise PermanentFailure(result.error or "failed")
    raise RuntimeError(result.error or "delivery failed")  # retried with backoff by the job queue
