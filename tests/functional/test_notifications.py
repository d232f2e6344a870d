"""Notifications through a real SMTP server (aiosmtpd on loopback): reply mails (opt-in, one-click
unsubscribe), moderation decisions, appeal outcomes, the moderators' digest, retries when the server
refuses — all from the job queue — and the in-widget notification list."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.accounts.models import Role
from parley.app import create_app
from parley.clock import FrozenClock
from parley.comments.models import Comment
from parley.comments.services import apply_status_change
from parley.config import Settings
from parley.jobs.services import run_due
from parley.moderation.services import do_record_decision
from parley.moderation.types import Decision, Reason, Verdict
from parley.notifications.services import do_notify_appeal_outcome, do_queue_digests
from support.apps import checking_client
from support.factories import bearer, make_account, make_site, post, register
from support.smtp import Inbox, smtp_server


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_app(settings: Settings, clock: FrozenClock, smtp: tuple[Inbox, int]) -> Iterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "mail_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp[1],
            "smtp_tls": "none",
            # these tests are about notifications: readers sign up at once (the confirmation of a
            # sign-up by mail is test_registration_confirmation.py)
            "registration_confirmation": "off",
        }
    )
    inbox = smtp[0]  # one server per module: each test starts with an empty inbox
    inbox.messages.clear()
    inbox.envelopes.clear()
    inbox.fail_next = 0
    application = create_app(configured, clock=clock)
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
def mail_client(mail_app: FastAPI) -> Iterator[TestClient]:
    with checking_client(mail_app) as c:
        yield c


def reject(app: FastAPI, comment_id: int, now: datetime, note: str | None = None) -> None:
    with app.state.registry.db.write() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None
        reason = Reason(
            phase="moderator", code="insult", detail="Beleidigung", params={}, verdict=Verdict.REJECT
        )
        decision = Decision(verdict=Verdict.REJECT, reasons=(reason,), scores={}, tags=frozenset(), runs=())
        record = do_record_decision(
            s,
            site_id=comment.site_id,
            comment_id=comment.id,
            decision=decision,
            status_before=comment.status,
            status_after="rejected",
            now=now,
            trigger="moderator",
        )
        record.note = note
        apply_status_change(s, comment, "rejected", now)


def test_reply_mail_opt_in_unsubscribe_and_widget_list(
    mail_app: FastAPI, mail_client: TestClient, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox, _ = smtp
    reg = mail_app.state.registry
    alice = register(mail_client, name="Alice Autorin", email="alice@example.org")
    token = alice["token"]
    prefs = mail_client.put(
        "/api/v1/me/notification-settings", json={"reply_emails": True}, headers=bearer(token)
    )
    assert prefs.json()["reply_emails"] is True
    parent = post(mail_client, "artikel-1", "Mein Kommentar", token=token).json()["comment"]["id"]
    post(mail_client, "artikel-1", "Ich antworte dir", author_name="Bert Gast", parent_id=parent)
    post(mail_client, "artikel-1", "Selbstgespräch", token=token, parent_id=parent)  # own reply: no mail
    assert inbox.messages == []  # never in the request path
    run_due(reg)
    mails = inbox.to("alice@example.org")
    assert len(mails) == 1
    mail = mails[0]
    assert mail["Subject"] == "Neue Antwort auf Ihren Kommentar"
    text = mail.get_body(("plain",))
    assert text is not None
    assert "Bert Gast hat auf Ihren Kommentar" in text.get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mail["List-Unsubscribe"].strip("<>")

    listing = mail_client.get("/api/v1/me/notifications", headers=bearer(token)).json()
    assert listing["unread_count"] == 1
    assert listing["items"][0]["kind"] == "reply"
    assert "Bert Gast" in listing["items"][0]["text"]
    read = mail_client.post("/api/v1/me/notifications/read", json={}, headers=bearer(token))
    assert read.json() == {"unread_count": 0}

    parts = urlsplit(unsubscribe)
    path = f"{parts.path}?{parts.query}"
    page = mail_client.get(path)
    assert page.status_code == 200
    assert "<form" in page.text
    assert mail_client.get("/api/v1/me/notification-settings", headers=bearer(token)).json()["reply_emails"]
    forged = re.sub(r"s=[^&]+", "s=AAAAAAAAAAAAAAAAAAAAAA", path)
    assert mail_client.post(forged).status_code == 400
    done = mail_client.post(path, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200
    assert (
        mail_client.get("/api/v1/me/notification-settings", headers=bearer(token)).json()["reply_emails"]
        is False
    )
    post(mail_client, "artikel-1", "Noch eine Antwort", author_name="Carla Gast", parent_id=parent)
    run_due(reg)
    assert len(inbox.to("alice@example.org")) == 1  # unsubscribed: no second mail
    unread = mail_client.get("/api/v1/me/notifications?unread=true", headers=bearer(token)).json()
    assert unread["unread_count"] == 1  # the widget still shows it
    ours = [r for r in caplog.records if r.name != "mail.log"]  # mail.log: the test SMTP server itself
    assert ours
    assert not [r for r in ours if "alice@example.org" in r.getMessage()]


def test_decision_appeal_and_digest_mails(
    mail_app: FastAPI, mail_client: TestClient, smtp: tuple[Inbox, int], clock: FrozenClock
) -> None:
    inbox, _ = smtp
    reg = mail_app.state.registry
    author = register(mail_client, name="Dora Autorin", email="dora@example.org")
    cid = post(mail_client, "artikel-1", "Ein Kommentar", token=author["token"]).json()["comment"]["id"]
    reject(mail_app, cid, clock.now(), note="Bitte sachlich bleiben.")
    inbox.fail_next = 1  # the server says "try later" once
    run_due(reg)
    assert inbox.to("dora@example.org") == []
    clock.advance(10)
    run_due(reg)
    mail = inbox.to("dora@example.org")[-1]
    assert mail["Subject"] == "Eine Entscheidung zu Ihrem Kommentar"
    body = mail.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert "wurde nicht veröffentlicht" in content
    assert "Bitte sachlich bleiben." in content
    assert "/statements/" in content
    with reg.db.write() as s:
        do_notify_appeal_outcome(
            s,
            account_id=author["account"]["id"],
            comment_id=cid,
            upheld=False,
            reason="Satire ist erlaubt.",
            now=clock.now(),
        )
    run_due(reg)
    appeal = inbox.to("dora@example.org")[-1]
    assert appeal["Subject"] == "Über Ihren Widerspruch wurde entschieden"
    plain = appeal.get_body(("plain",))
    assert plain is not None
    assert "Satire ist erlaubt." in plain.get_content()
    items = mail_client.get("/api/v1/me/notifications", headers=bearer(author["token"])).json()["items"]
    assert [i["kind"] for i in items] == ["appeal", "decision"]
    assert items[1]["data"]["thread_key"] == "artikel-1"  # the widget links the comment with it

    moderator = make_account(
        reg.db, clock, name="Mona Prüfer", email="mo@example.org", role=Role.MODERATOR, password=None
    )
    assert moderator
    post(mail_client, "artikel-2", "x " * 30000)  # held or refused; make sure something is held
    with reg.db.write() as s:
        c = s.get(Comment, cid)
        assert c is not None
        apply_status_change(s, c, "held", clock.now())
    with reg.db.write() as s:
        assert do_queue_digests(s, clock.now()) >= 1
    with reg.db.write() as s:
        assert do_queue_digests(s, clock.now()) == 0  # once a day
    run_due(reg)
    digest = inbox.to("mo@example.org")[-1]
    assert digest["Subject"] == "Moderationsübersicht"
    text: Any = digest.get_body(("plain",))
    assert "Zurückgehaltene Kommentare: 1" in text.get_content()
