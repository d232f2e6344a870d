"""SSRF at delivery: webhooks already stored with a private target never reach a local listener.

Webhooks are Parley's only server-side fetch (no link previews, no avatars, no image proxy).
``tests/functional/test_webhooks.py`` shows private targets refused when an admin registers them, a
name that rebinds to loopback at delivery, and redirects not followed. Here the targets are written
straight into the database — as if registered while an admin allowed loopback and the setting was
then removed, or by an import — so only the delivery-time check stands between them and the
listener: ``127.0.0.1``, ``[::ffff:127.0.0.1]`` (the IPv4-mapped spelling that bypassed Discourse's
check), ``[::ffff:7f00:1]``, ``localhost``, ``2130706433``, ``[::1]`` and ``169.254.169.254``, plus a
redirect from an allowed listener to a private one. Pass: 0 hits on the private listeners; every
delivery failed with a reason; the allowed listener (the control) is reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from parley.clock import FrozenClock
from parley.config import Settings
from parley.jobs.services import run_due
from parley.webhooks.models import Webhook, WebhookDelivery
from support.factories import post
from support.receiver import Receiver, receiver

TARGETS = (
    "http://127.0.0.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::ffff:7f00:1]:{port}/hook",
    "http://localhost:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://169.254.169.254/latest/meta-data/",
)


@pytest.fixture
def listener() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def add_rows(app: FastAPI, clock: FrozenClock, urls: list[str]) -> None:
    from parley.sites.services import get_site_by_slug

    with app.state.registry.db.write() as s:
        site = get_site_by_slug(s, "test")
        for url in urls:
            s.add(Webhook(site_id=site.id, url=url, events=["*"], secret="x" * 32, created_at=clock.now()))


def test_stored_private_targets_are_refused_at_delivery(
    app: FastAPI, client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    add_rows(app, clock, [t.format(port=listener.port) for t in TARGETS])
    assert post(client, "ssrf", "Ein Ereignis.").status_code == 201
    run_due(app.state.registry)
    assert listener.hits == []
    with app.state.registry.db.read() as s:
        deliveries = list(s.scalars(select(WebhookDelivery)))
        hooks = set(s.scalars(select(Webhook.id)))
    assert {d.webhook_id for d in deliveries} == hooks  # every target was tried
    assert len(hooks) == len(TARGETS)
    assert {d.status for d in deliveries} == {"failed"}
    assert all(d.error for d in deliveries)
    print(f"SSRF: {len(TARGETS)} stored private targets, {len(deliveries)} deliveries, 0 hits")


def test_a_redirect_from_an_allowed_target_to_a_private_one_is_not_followed(
    settings: Settings, clock: FrozenClock
) -> None:
    from parley.app import create_app
    from support.apps import checking_client
    from support.factories import make_site

    with receiver() as allowed, receiver() as private:
        app = create_app(
            settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]}), clock=clock
        )
        make_site(app.state.registry.db, clock, "test", settings={"moderation": {"rate": {"enabled": False}}})
        allowed.status = 307
        allowed.location = f"http://[::ffff:127.0.0.2]:{private.port}/stolen"
        add_rows(app, clock, [allowed.url])
        with checking_client(app) as c:
            assert post(c, "ssrf", "Noch ein Ereignis.").status_code == 201
        run_due(app.state.registry)
        app.state.registry.close()
        assert allowed.hits, "the control: the allowed target is reached"
        assert private.hits == []
