"""``parley webhooks add|list|delete|enable|test|deliveries``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

webhooks_app = typer.Typer(no_args_is_help=True, help="Signed webhooks per site.")
SiteOpt = Annotated[str, typer.Option("--site", help="Site slug.")]
HookId = Annotated[int, typer.Argument(help="Webhook id.")]


@contextmanager
def _registry() -> Iterator[Any]:
    from parley.cli.main import settings_or_exit
    from parley.registry import Registry

    registry = Registry.build(settings_or_exit())
    try:
        yield registry
    finally:
        registry.close()


def _fail_on_app_error(fn: Any) -> Any:
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from parley.cli.main import fail, one_line
        from parley.errors import AppError

        try:
            return fn(*args, **kwargs)
        except AppError as exc:
            reason = exc.extra.get("reason")
            raise fail(one_line(exc) + (f" {reason}" if reason else "")) from None

    return wrapper


@webhooks_app.command("add")
@_fail_on_app_error
def add(
    site: SiteOpt,
    url: Annotated[str, typer.Option("--url", help="Receiver URL (http or https).")],
    event: Annotated[
        list[str] | None, typer.Option("--event", help="Event kind (repeatable); default all.")
    ] = None,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Add a webhook and print it with its signing secret (shown only now)."""
    from parley.sites.services import get_site_by_slug
    from parley.webhooks import services

    with _registry() as reg, reg.db.write() as session:
        hook = services.do_create_webhook(
            session,
            get_site_by_slug(session, site),
            url=url,
            events=event or ["*"],
            description=description,
            now=reg.clock.now(),
            allowed=reg.settings.webhook_allowed_networks,
        )
        typer.echo(json.dumps(services.webhook_out(hook, with_secret=True), indent=2))


@webhooks_app.command("list")
@_fail_on_app_error
def list_(site: SiteOpt) -> None:
    """List a site's webhooks."""
    from parley.sites.services import get_site_by_slug
    from parley.webhooks import services

    with _registry() as reg, reg.db.read() as session:
        hooks = services.list_webhooks(session, get_site_by_slug(session, site))
        typer.echo(json.dumps([services.webhook_out(h) for h in hooks], indent=2))


def _hook(session: Any, webhook_id: int) -> Any:
    from parley.cli.main import fail
    from parley.webhooks.models import Webhook

    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise fail(f"no webhook with id {webhook_id}")
    return hook


@webhooks_app.command("delete")
def delete(webhook_id: HookId) -> None:
    """Delete a webhook and its delivery log."""
    from parley.webhooks import services

    with _registry() as reg, reg.db.write() as session:
        services.do_delete_webhook(session, _hook(session, webhook_id))
    typer.echo(f"webhook {webhook_id} deleted")


@webhooks_app.command("enable")
def enable(webhook_id: HookId) -> None:
    """Switch a disabled webhook on again."""
    from parley.webhooks import services

    with _registry() as reg, reg.db.write() as session:
        services.do_enable_webhook(session, _hook(session, webhook_id))
    typer.echo(f"webhook {webhook_id} enabled")


@webhooks_app.command("test")
def test(webhook_id: HookId) -> None:
    """Send a signed ping now and show how the receiver answered."""
    from parley.sites.models import Site
    from parley.webhooks import dispatch, services
    from parley.webhooks.models import WebhookDelivery

    with _registry() as reg:
        with reg.db.write() as session:
            hook = _hook(session, webhook_id)
            site = session.get(Site, hook.site_id)
            delivery = dispatch.do_create_delivery(
                session, hook, "ping", {"webhook_id": hook.id}, reg.clock.now(), site.slug if site else ""
            )
            delivery_id = delivery.id
        dispatch.attempt_delivery(reg, delivery_id, attempt=1, final=True)
        with reg.db.read() as session:
            found = session.get(WebhookDelivery, delivery_id)
            typer.echo(json.dumps(services.delivery_out(found) if found else {}, indent=2))


@webhooks_app.command("deliveries")
def deliveries(
    webhook_id: HookId, limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20
) -> None:
    """Show the delivery log, newest first."""
    from parley.webhooks import services

    with _registry() as reg, reg.db.read() as session:
        rows = services.recent_deliveries(session, _hook(session, webhook_id), limit)
        typer.echo(json.dumps([services.delivery_out(d) for d in rows], indent=2))
