"""Admin API for webhooks: ``/api/v1/admin/sites/{slug}/webhooks`` (add, list, delete, enable, test,
delivery log). Admins only; a site-bound API token sees its own site only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.responses import Response

from parley.admin.views import access_site, require_admin
from parley.audit.services import do_audit
from parley.web.context import RequestContext, get_context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse
from parley.webhooks import dispatch, services
from parley.webhooks.schemas import DeliveryOut, WebhookIn, WebhookOut

router = APIRouter(prefix="/api/v1/admin/sites/{slug}/webhooks", tags=["webhooks"])
Ctx = Annotated[RequestContext, Depends(get_context)]
Slug = Annotated[str, Path(max_length=64)]
HookId = Annotated[int, Path(ge=1, le=2**53)]
ERRORS = problem_responses(
    {
        401: "No credentials, or a bad token",
        403: "Not an admin, or a token bound to another site",
        404: "No such site or webhook",
        422: "Invalid fields, or a refused target address",
    }
)


@router.get("", response_model=list[WebhookOut], responses=ERRORS)
def list_hooks(ctx: Ctx, slug: Slug) -> Response:
    """The site's webhooks (secrets are never shown again)."""
    with ctx.registry.db.read() as session:
        site = access_site(session, require_admin(ctx, session), slug)
        return JSONResponse([services.webhook_out(h) for h in services.list_webhooks(session, site)])


@router.post("", status_code=201, response_model=WebhookOut, responses=ERRORS)
def add_hook(ctx: Ctx, slug: Slug, payload: WebhookIn) -> Response:
    """Add a webhook. The answer holds its signing secret: the only time it is shown."""
    settings = ctx.settings
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        hook = services.do_create_webhook(
            session,
            site,
            url=payload.url,
            events=payload.events,
            description=payload.description,
            now=ctx.now,
            allowed=settings.webhook_allowed_networks,
            resolver=dispatch._resolver(ctx.registry),
        )
        do_audit(
            session,
            action="webhook.created",
            object_type="webhook",
            object_id=hook.id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
            data={"events": list(hook.events)},
        )
        out = services.webhook_out(hook, with_secret=True)
    return JSONResponse(out, status_code=201)


@router.delete("/{webhook_id}", status_code=204, responses=ERRORS)
def delete_hook(ctx: Ctx, slug: Slug, webhook_id: HookId) -> Response:
    """Delete a webhook and its delivery log."""
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        services.do_delete_webhook(session, services.access_webhook(session, site, webhook_id))
        do_audit(
            session,
            action="webhook.deleted",
            object_type="webhook",
            object_id=webhook_id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
        )
    return Response(status_code=204)


@router.post("/{webhook_id}/enable", response_model=WebhookOut, responses=ERRORS)
def enable_hook(ctx: Ctx, slug: Slug, webhook_id: HookId) -> Response:
    """Switch a disabled webhook on again (resets its failure count)."""
    with ctx.registry.db.write() as session:
        site = access_site(session, require_admin(ctx, session), slug)
        hook = services.do_enable_webhook(session, services.access_webhook(session, site, webhook_id))
        return JSONResponse(services.webhook_out(hook))


@router.post("/{webhook_id}/test", response_model=DeliveryOut, responses=ERRORS)
def test_hook(ctx: Ctx, slug: Slug, webhook_id: HookId) -> Response:
    """Send a signed ``ping`` event now and answer with how the receiver took it."""
    reg = ctx.registry
    with reg.db.write() as session:
        site = access_site(session, require_admin(ctx, session), slug)
        hook = services.access_webhook(session, site, webhook_id)
        delivery = dispatch.do_create_delivery(
            session, hook, "ping", {"webhook_id": hook.id}, ctx.now, site.slug
        )
        delivery_id = delivery.id
    dispatch.attempt_delivery(reg, delivery_id, attempt=1, final=True)
    with reg.db.read() as session:
        from parley.webhooks.models import WebhookDelivery

        found = session.get(WebhookDelivery, delivery_id)
        assert found is not None
        return JSONResponse(services.delivery_out(found))


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=ERRORS)
def deliveries(
    ctx: Ctx, slug: Slug, webhook_id: HookId, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Response:
    """The delivery log, newest first."""
    with ctx.registry.db.read() as session:
        site = access_site(session, require_admin(ctx, session), slug)
        hook = services.access_webhook(session, site, webhook_id)
        return JSONResponse(
            [services.delivery_out(d) for d in services.recent_deliveries(session, hook, limit)]
        )


def includeme(app: FastAPI) -> None:
    import parley.webhooks.dispatch  # noqa: F401 (registers the delivery job handler)

    app.include_router(router)
