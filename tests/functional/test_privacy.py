"""GDPR: a reader takes their data (``GET /api/v1/me/export``) or leaves (``DELETE /api/v1/me``);
after erasure no row, log line or cache holds their e-mail address or name. Retention purges."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from parley.audit.models import AuditEvent
from parley.clock import FrozenClock
from parley.comments.models import Comment
from parley.config import Settings
from parley.db.base import Base, import_all_models
from parley.db.database import Database
from parley.privacy.retention import do_purge
from support.factories import bearer, configure_site, post, register

EMAIL = "alice.vergessen@example.org"
NAME = "Alice Vergessen"
OLD_NAME = "Alice Früher"


def every_row_as_text(db: Database) -> str:
    import_all_models()
    chunks = []
    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                chunks.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(chunks)


def alice_and_bob(client: TestClient) -> dict[str, Any]:
    alice = register(client, name=OLD_NAME, email=EMAIL)
    a = bearer(alice["token"])
    assert client.patch("/api/v1/me", json={"name": NAME}, headers=a).status_code == 200
    bob = register(client, name="Bob Bleibt", email="bob@example.org")
    b = bearer(bob["token"])
    bobs = post(client, "artikel-1", "Bobs Meinung", token=bob["token"]).json()["comment"]["id"]
    mine = post(client, "artikel-1", "Alices Antwort", token=alice["token"], parent_id=bobs).json()[
        "comment"
    ]["id"]
    client.patch(f"/api/v1/comments/{mine}", json={"body": "Alices Antwort, bearbeitet"}, headers=a)
    post(client, "artikel-1", "Bob antwortet Alice", token=bob["token"], parent_id=mine)
    assert client.put(f"/api/v1/comments/{bobs}/vote", json={"value": 1}, headers=a).json()["up"] == 1
    assert client.put(f"/api/v1/comments/{mine}/vote", json={"value": -1}, headers=b).status_code == 200
    r = client.post(
        f"/api/v1/comments/{bobs}/reports",
        json={"reason": "spam", "detail": "Werbung", "contact": EMAIL},
        headers=a,
    )
    assert r.status_code == 201
    return {"alice": alice, "bob": bob, "a": a, "b": b, "bobs": bobs, "mine": mine}


def test_export_holds_everything_about_me(client: TestClient) -> None:
    w = alice_and_bob(client)
    r = client.get("/api/v1/me/export", headers=w["a"])
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    data = r.json()
    assert data["profile"]["email"] == EMAIL
    assert data["profile"]["name"] == NAME
    assert data["profile"]["name_history"][0]["old"] == OLD_NAME
    assert [c["body"] for c in data["comments"]] == ["Alices Antwort, bearbeitet"]
    assert data["comments"][0]["earlier_versions"][0]["body"] == "Alices Antwort"
    assert data["votes"] == [{**data["votes"][0], "comment_id": w["bobs"], "value": 1}]
    assert data["reports"][0]["reason"] == "spam"
    assert data["reports"][0]["contact"] == EMAIL
    assert data["notifications"][0]["kind"] == "reply"
    assert data["sessions"]
    assert "token" not in json.dumps(data["sessions"])
    assert data["moderation_decisions"][0]["comment_id"] == w["mine"]
    assert client.get("/api/v1/me/export").status_code == 401


@pytest.mark.parametrize("mode", ["anonymize", "remove"])
def test_erasure_leaves_nothing_personal(
    app: FastAPI, client: TestClient, db: Database, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_site(app, "test", erasure=mode)
    w = alice_and_bob(client)
    assert EMAIL in every_row_as_text(db)
    r = client.delete("/api/v1/me", headers=w["a"])
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=w["a"]).status_code == 401  # sessions ended
    everything = every_row_as_text(db)
    for secret in (EMAIL, NAME, OLD_NAME):
        assert secret not in everything, secret
    for record in caplog.records:
        message = record.getMessage()
        assert EMAIL not in message
        assert NAME not in message
    listing = client.get("/api/v1/threads/artikel-1/comments", params={"view": "flat"}).json()["comments"]
    by_id = {c["id"]: c for c in listing}
    assert by_id[w["bobs"]]["up"] == 0  # Alice's vote is gone and the counter with it
    with db.read() as s:
        mine = s.get(Comment, w["mine"])
        assert mine is not None
        assert mine.author_id is None
        if mode == "anonymize":
            assert mine.body_text == "Alices Antwort, bearbeitet"
            assert mine.status == "published"
            assert by_id[w["mine"]]["html"]
        else:
            assert mine.body_text == ""
            assert mine.status == "deleted"
            assert w["mine"] not in by_id or not by_id[w["mine"]]["html"]
        bob_reply = s.scalar(select(Comment).where(Comment.parent_id == w["mine"]))
        assert bob_reply is not None
        assert bob_reply.status == "published"  # other people's replies stay in place
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
        assert event is not None
        assert event.object_id == w["alice"]["account"]["id"]
        assert event.data["votes_removed"] == 1


def test_admin_cli_exports_and_erases(
    app: FastAPI, client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.cli.main import app as cli

    w = alice_and_bob(client)
    account_id = str(w["alice"]["account"]["id"])
    monkeypatch.setenv("PARLEY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARLEY_SECRET_KEY", "x" * 32)
    runner = CliRunner()
    out = runner.invoke(cli, ["users", "export", account_id])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["profile"]["email"] == EMAIL
    erased = runner.invoke(cli, ["users", "erase", account_id, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output)["comments_anonymized"] == 1
    assert runner.invoke(cli, ["users", "erase", account_id, "--yes"]).exit_code == 1


def test_retention_purges_old_ip_hashes_only(
    app: FastAPI, client: TestClient, db: Database, clock: FrozenClock
) -> None:
    old = post(client, "artikel-1", "alt").json()["comment"]["id"]
    clock.advance(31 * 86400)
    new = post(client, "artikel-1", "neu").json()["comment"]["id"]
    with db.write() as s:  # the test client has no IP address; give both comments a hash
        for cid in (old, new):
            c = s.get(Comment, cid)
            assert c is not None
            c.ip_hash = f"hash{cid}"
    settings: Settings = app.state.registry.settings
    with db.write() as s:
        result = do_purge(s, settings, clock.now())
    assert result.comment_ip_hashes == 1
    with db.read() as s:
        assert s.scalar(select(Comment.ip_hash).where(Comment.id == old)) is None
        assert s.scalar(select(Comment.ip_hash).where(Comment.id == new))
        assert s.execute(text("SELECT 1")).scalar() == 1
    assert timedelta(days=settings.ip_hash_retention_days) < timedelta(days=31)


def test_retention_removes_unconfirmed_sign_ups_once_they_expired(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    from parley.accounts.models import PendingRegistration

    def pending(email: str) -> PendingRegistration:
        now = clock.now()
        return PendingRegistration(
            name="Wartende Person",
            email=email,
            email_normalized=email,
            password_hash="x",
            created_at=now,
            expires_at=now + timedelta(days=1),
        )

    with db.write() as s:
        s.add(pending("alt@example.org"))
    clock.advance(2 * 86400)
    with db.write() as s:
        s.add(pending("neu@example.org"))
    with db.write() as s:
        result = do_purge(s, app.state.registry.settings, clock.now())
    assert result.pending_registrations == 1
    with db.read() as s:
        assert list(s.scalars(select(PendingRegistration.email))) == ["neu@example.org"]


def test_the_daily_purge_job_runs_and_queues_the_next_day(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    from parley.jobs.models import Job
    from parley.jobs.services import run_due
    from parley.privacy.jobs import do_schedule_daily_purge

    with db.write() as s:
        assert do_schedule_daily_purge(s, clock.now())
        assert not do_schedule_daily_purge(s, clock.now())  # once a day
    assert run_due(app.state.registry) == 1
    with db.read() as s:
        jobs = list(s.scalars(select(Job).where(Job.kind == "privacy.purge").order_by(Job.id)))
    assert [j.status for j in jobs] == ["done", "pending"]
    assert jobs[1].run_at - clock.now() == timedelta(days=1)


def test_the_daily_digest_job_queues_tomorrows_run(app: FastAPI, db: Database, clock: FrozenClock) -> None:
    from parley.jobs.models import Job
    from parley.jobs.services import run_due
    from parley.notifications.jobs import do_schedule_daily_digest

    with db.write() as s:
        assert do_schedule_daily_digest(s, clock.now())
    run_due(app.state.registry)
    with db.read() as s:
        jobs = list(s.scalars(select(Job).where(Job.kind == "notifications.digest").order_by(Job.id)))
    assert [j.status for j in jobs] == ["done", "pending"]


def test_erasure_drops_the_authors_copy_index_signatures(client: TestClient, db: Database) -> None:
    from parley.moderation.models import CopySignature

    account = register(client)
    text_ = "Dieser Kommentar ist lang genug für den Kopienindex und hat mehr als acht Wörter"
    assert post(client, "copy-gdpr", text_, token=account["token"]).status_code == 201
    key = f"acct:{account['account']['id']}"
    with db.read() as s:
        assert s.scalar(select(CopySignature.comment_id).where(CopySignature.author_key == key)) is not None
    assert client.delete("/api/v1/me", headers=bearer(account["token"])).status_code in (200, 204)
    with db.read() as s:
        assert s.scalar(select(CopySignature.comment_id).where(CopySignature.author_key == key)) is None


def test_a_sign_up_waiting_for_its_confirmation_is_exported_and_erased_with_the_account(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """A guest who gave an address, then began a sign-up with it and never confirmed: the waiting
    sign-up holds their name, address and password hash, so their export shows it (without the hash)
    and their erasure deletes it; someone else's waiting sign-up stays."""
    from parley.accounts.confirmation import do_request_registration
    from parley.accounts.models import PendingRegistration

    address = "Gast.Wartet@Example.org"
    r = post(client, "artikel-2", "Ein Gastkommentar", author_name="Gast Wartet", email=address)
    assert r.status_code == 201
    guest = {"Authorization": f"Bearer {r.json()['session']['token']}"}
    for name, email in (("Gast Wartet Neu", "gast.wartet@example.org"), ("Jemand Anderer", "x@example.org")):
        with db.write() as s:  # what POST /auth/register stores when sign-ups are confirmed by mail
            do_request_registration(
                s,
                name=name,
                email=email,
                password="ein langes Passwort 42",
                now=clock.now(),
                site_id=None,
                locale="de",
            )
    with db.read() as s:
        assert len(s.scalars(select(PendingRegistration)).all()) == 2

    data = client.get("/api/v1/me/export", headers=guest).json()
    assert [(p["name"], p["email"]) for p in data["pending_registrations"]] == [
        ("Gast Wartet Neu", "gast.wartet@example.org")
    ]
    assert "password" not in json.dumps(data["pending_registrations"])

    assert client.delete("/api/v1/me", headers=guest).status_code == 204
    with db.read() as s:
        assert list(s.scalars(select(PendingRegistration.email))) == ["x@example.org"]
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
        assert event is not None
        assert event.data["pending_registrations"] == 1
    assert "gast.wartet@example.org" not in every_row_as_text(db).lower()


def test_an_imported_author_whose_address_is_not_one_can_still_be_exported_and_erased(
    db: Database, clock: FrozenClock
) -> None:
    """Importers keep an author's address as the export had it (it may be no address at all):
    that must not break the export or the erasure of the account."""
    from parley.accounts.models import Account
    from parley.privacy.erasure import do_erase_account
    from parley.privacy.export import collect

    with db.write() as s:
        account = Account(
            display_name="Importierte Person",
            email="kein at",
            role="commenter",
            kind="imported",
            created_at=clock.now(),
        )
        s.add(account)
        s.flush()
        account_id = account.id
    with db.read() as s:
        data = collect(s, account_id, "http://parley.test")
        assert data is not None
        assert data["pending_registrations"] == []
    with db.write() as s:
        assert do_erase_account(s, account_id, clock.now()).pending_registrations == 0
    with db.read() as s:
        assert s.get(Account, account_id) is None
