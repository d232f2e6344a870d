"""Webhooks end to end: admin API, signed deliveries from the job queue to a local receiver, retries,
switching off, and SSRF — a webhook aimed at loopback, IPv4-mapped, metadata, a rebinding name or a
redirect never reaches the local listener."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from parley.accounts.models import Role
from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.jobs.services import run_due
from parley.webhooks import signing
from parley.webhooks.models import Webhook, WebhookDelivery
from support.apps import checking_client, inside_write_unit
from support.factories import bearer, make_account, make_api_token, make_site, post
from support.receiver import Receiver, receiver

BASE = "/api/v1/admin/sites/test/webhooks"


@pytest.fixture
def hook_app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    """The app with loopback allowed as a webhook target (the receiver listens there)."""
    allowed = settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],
            "webhook_disable_after": 3,
            "webhook_max_attempts": 2,
        }
    )
    application = create_app(allowed, clock=clock)
    make_site(
        application.state.registry.db,
        clock,
        "test",
        name="Testzeitung",
        allowed_origins=["http://testserver"],
    )
    yield application
    application.state.registry.close()


@pytest.fixture
def hook_client(hook_app: FastAPI) -> Iterator[TestClient]:
    with checking_client(hook_app) as c:
        yield c


def admin_headers(app: FastAPI, clock: FrozenClock) -> dict[str, str]:
    db = app.state.registry.db
    return bearer(make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN, password=None)))


@pytest.fixture
def listener() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def add_hook(client: TestClient, headers: dict[str, str], url: str, events: list[str] | None = None) -> Any:
    return client.post(BASE, json={"url": url, "events": events or ["*"]}, headers=headers)


def test_events_arrive_signed_and_carry_no_private_data(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    headers = admin_headers(hook_app, clock)
    r = add_hook(hook_client, headers, listener.url, ["comment.created", "comment.published", "vote.changed"])
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert secret.startswith("whsec_")
    listed = hook_client.get(BASE, headers=headers).json()
    assert "secret" not in listed[0] or listed[0]["secret"] is None
    created = post(hook_client, "artikel-1", "Geheimer Text der Leserin", email="leserin@example.org")
    assert created.status_code == 201
    assert listener.hits == []  # nothing is sent in the request path
    run_due(hook_app.state.registry)
    kinds = sorted(json.loads(h.body)["type"] for h in listener.hits)
    assert kinds == ["comment.created", "comment.published"]
    now = clock.now().timestamp()
    for hit in listener.hits:
        assert signing.verify(secret, hit.headers["x-parley-signature"], hit.body, now=now)
        assert not signing.verify(secret, hit.headers["x-parley-signature"], hit.body, now=now + 3600)
        assert hit.headers["x-parley-event"] == json.loads(hit.body)["type"]
        assert b"Geheimer Text" not in hit.body
        assert b"leserin@example.org" not in hit.body
        event = json.loads(hit.body)
        assert event["site"] == "test"
        assert event["data"]["thread_key"] == "artikel-1"
    deliveries = hook_client.get(f"{BASE}/{listed[0]['id']}/deliveries", headers=headers).json()
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert {d["response_status"] for d in deliveries} == {200}


def test_a_post_reads_the_sites_webhooks_before_its_write_transaction(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    """Which webhooks a site has is read once per POST: on SQLite on the POST's read session, not
    inside the writers' lock (issue 7); on PostgreSQL, which has no such lock, in the write
    transaction (sparing a read transaction of its own). The deliveries still go to the active
    hooks only (the write unit loads those rows)."""
    headers = admin_headers(hook_app, clock)
    live = add_hook(hook_client, headers, listener.url, ["comment.created"]).json()["id"]
    off = add_hook(hook_client, headers, listener.url, ["comment.created"]).json()["id"]
    db = hook_app.state.registry.db
    with db.write() as session:
        hook = session.get(Webhook, off)
        assert hook is not None
        hook.active = False
    read_in_unit: list[bool] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM webhooks WHERE webhooks.site_id" in " ".join(statement.split()):  # the site's hooks
            read_in_unit.append(inside_write_unit())

    engines = {db.engine, db.write_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", spy)
    try:
        assert post(hook_client, "artikel-1", "Ein Kommentar").status_code == 201
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", spy)
    assert read_in_unit == [not db.is_sqlite]
    with db.read() as session:
        queued = list(session.scalars(select(WebhookDelivery.webhook_id)))
    assert queued == [live]


def test_votes_reports_and_edits_are_events_too(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    headers = admin_headers(hook_app, clock)
    assert add_hook(hook_client, headers, listener.url).status_code == 201  # every event
    db = hook_app.state.registry.db
    voter = bearer(make_api_token(db, clock, make_account(db, clock, password=None)))
    created = post(hook_client, "artikel-1", "Ein Kommentar")
    comment_id = created.json()["comment"]["id"]
    session = created.json()["session"]["token"]
    assert (
        hook_client.put(f"/api/v1/comments/{comment_id}/vote", json={"value": 1}, headers=voter).status_code
        == 200
    )
    report = hook_client.post(
        f"/api/v1/comments/{comment_id}/reports", json={"reason": "spam"}, headers=voter
    )
    assert report.status_code == 201
    edit = hook_client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "Geändert"}, headers=bearer(session)
    )
    assert edit.status_code == 200
    run_due(hook_app.state.registry)
    events = [json.loads(h.body) for h in listener.hits]
    kinds = [e["type"] for e in events]
    assert kinds.count("comment.created") == 1
    assert {"vote.changed", "report.created", "comment.updated"} <= set(kinds)
    vote = next(e for e in events if e["type"] == "vote.changed")
    assert vote["data"]["up"] == 1
    assert vote["data"]["comment_id"] == comment_id


def test_failures_are_retried_with_backoff_then_the_webhook_is_switched_off(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    headers = admin_headers(hook_app, clock)
    hook_id = add_hook(hook_client, headers, listener.url, ["comment.created"]).json()["id"]
    listener.status = 500
    post(hook_client, "artikel-1", "eins")
    post(hook_client, "artikel-1", "zwei")
    reg = hook_app.state.registry
    run_due(reg)
    assert len(listener.hits) == 2
    run_due(reg)
    assert len(listener.hits) == 2  # the retry waits for its backoff
    clock.advance(10)
    run_due(reg)
    assert len(listener.hits) == 3  # the third failed attempt in a row switches it off
    with reg.db.read() as s:
        hook = s.get(Webhook, hook_id)
        assert hook is not None
        assert not hook.active
        assert hook.consecutive_failures == 3
        statuses = sorted(d.status for d in s.scalars(select(WebhookDelivery)))
    assert statuses == ["failed", "failed"]  # max 2 attempts each, or stopped by the switch-off
    post(hook_client, "artikel-1", "drei")
    clock.advance(3600)
    run_due(reg)
    assert len(listener.hits) == 3  # nothing goes to a switched-off webhook
    listener.status = 200
    assert hook_client.post(f"{BASE}/{hook_id}/enable", headers=headers).json()["active"]
    ping = hook_client.post(f"{BASE}/{hook_id}/test", headers=headers)
    assert ping.json()["status"] == "delivered"
    assert json.loads(listener.hits[-1].body)["type"] == "ping"


def test_admin_api_manages_webhooks_per_site(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    headers = admin_headers(hook_app, clock)
    hook_id = add_hook(hook_client, headers, listener.url).json()["id"]
    bad = hook_client.post(BASE, json={"url": listener.url, "events": ["comment.exploded"]}, headers=headers)
    assert bad.status_code == 422
    other = make_site(hook_app.state.registry.db, clock, "andere")
    db = hook_app.state.registry.db
    bound = bearer(make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN), site_id=other))
    assert hook_client.get(BASE, headers=bound).status_code == 404  # another site's token
    reader = bearer(make_api_token(db, clock, make_account(db, clock)))
    assert hook_client.get(BASE, headers=reader).status_code == 403
    assert hook_client.get(BASE).status_code == 401
    assert hook_client.delete(f"{BASE}/{hook_id}", headers=headers).status_code == 204
    assert hook_client.delete(f"{BASE}/{hook_id}", headers=headers).status_code == 404
    assert hook_client.get(BASE, headers=headers).json() == []


# --- SSRF: the app without any allowed network ------------------------------------------------------


PRIVATE_TARGETS = (
    "http://127.0.0.1:{port}/hook",
    "http://localhost:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "file:///etc/passwd",
)


def test_private_targets_are_refused_and_never_hit(
    app: FastAPI, client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    headers = admin_headers(app, clock)
    for template in PRIVATE_TARGETS:
        r = add_hook(client, headers, template.format(port=listener.port))
        assert r.status_code == 422, template
        assert r.json()["code"] == "validation_failed"
    assert listener.hits == []


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_delivery(
    app: FastAPI, client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    answers = {"n": 0}

    def rebinding(host: str, port: int) -> list[str]:
        answers["n"] += 1
        return ["93.184.216.34"] if answers["n"] == 1 else ["127.0.0.1"]

    reg = app.state.registry
    reg.extras["webhook_resolver"] = rebinding
    headers = admin_headers(app, clock)
    r = add_hook(client, headers, f"http://rebind.example:{listener.port}/hook", ["comment.created"])
    assert r.status_code == 201
    post(client, "artikel-1", "Hallo")
    run_due(reg)
    assert listener.hits == []
    with reg.db.read() as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
    assert delivery.status == "failed"
    assert delivery.error is not None
    assert "non-public" in delivery.error


def test_redirects_are_not_followed(
    hook_app: FastAPI, hook_client: TestClient, clock: FrozenClock, listener: Receiver
) -> None:
    with receiver() as target:
        listener.status = 302
        listener.location = f"http://127.0.0.1:{target.port}/stolen"
        headers = admin_headers(hook_app, clock)
        hook_id = add_hook(hook_client, headers, listener.url).json()["id"]
        ping = hook_client.post(f"{BASE}/{hook_id}/test", headers=headers).json()
        assert ping["status"] == "failed"
        assert ping["error"] == "redirects are not followed"
        assert len(listener.hits) == 1
        assert target.hits == []
