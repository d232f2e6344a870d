"""Moderator actions through the workspace: approve, reject, feature, bulk, copy wave, undo, sanctions,
story controls, settings (with the real pipeline's test box), and what authors and reporters see."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from parley.accounts.models import Account
from parley.audit.models import AuditEvent
from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from parley.moderation.models import ModerationDecision
from support.factories import bearer, configure_site, register
from support.workspace import make_copy_wave, moderator, site_id

COPY = (
    "Die Regierung muss endlich handeln, denn die Preise steigen jeden Monat weiter und "
    "niemand in Berlin scheint das ernst zu nehmen"
)


def _post(client: TestClient, token: str, body: str, thread: str = "story-1") -> dict[str, Any]:
    r = client.post(f"/api/v1/threads/{thread}/comments", json={"body": body}, headers=bearer(token))
    assert r.status_code == 201, r.text
    comment: dict[str, Any] = r.json()["comment"]
    return comment


def _status(app: FastAPI, comment_id: int) -> str:
    with app.state.registry.db.read() as s:
        c = s.get(Comment, comment_id)
        assert c is not None
        return c.status


def test_queue_card_approve_reject_undo(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    configure_site(app, "test", moderation={"terms": {"suspect": ["trottel"]}})
    author = register(client)
    held = [_post(client, author["token"], f"Nummer {i}: so ein T-r-o-t-t-e-l") for i in range(3)]
    assert {c["status"] for c in held} == {"held"}
    mod = moderator(app, clock)

    page = mod.get("/moderate/queue/held")
    assert page.status_code == 200
    assert page.text.count('class="card status-held"') == 3
    assert "<mark" in page.text
    assert "T-r-o-t-t-e-l</mark>" in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    filtered = mod.get("/moderate/queue/held", params={"reason": "banned_term"})
    assert filtered.text.count('class="card status-held"') == 0
    assert (
        mod.get("/moderate/queue/held", params={"reason": "suspect_term", "order": "newest"}).text.count(
            'class="card status-held"'
        )
        == 3
    )
    card = mod.get(f"/moderate/comments/{held[0]['id']}")
    assert card.status_code == 200
    assert "Nummer 0" in card.text

    assert mod.post(f"/moderate/comments/{held[0]['id']}/approve").status_code == 200
    assert _status(app, held[0]["id"]) == "published"
    r = mod.post(f"/moderate/comments/{held[1]['id']}/reject", {"reason_code": "insult", "note": ""})
    assert r.status_code == 200
    assert _status(app, held[1]["id"]) == "rejected"
    bad = mod.post(f"/moderate/comments/{held[2]['id']}/reject", {"reason_code": "no-such-code"})
    assert bad.status_code == 422
    # undo takes back the rejection only (the last action), then there is nothing left to undo
    assert mod.post("/moderate/undo").status_code == 200
    assert _status(app, held[1]["id"]) == "held"
    assert _status(app, held[0]["id"]) == "published"
    nothing = mod.post("/moderate/undo")
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "nothing_to_undo"
    # the thread counts what readers see
    with app.state.registry.db.read() as s:
        thread = s.scalar(select(Thread).where(Thread.key == "story-1"))
        assert thread is not None
        assert thread.comment_count == 1
        decisions = list(
            s.scalars(select(ModerationDecision).where(ModerationDecision.actor_kind == "moderator"))
        )
    assert [d.trigger for d in decisions] == ["workspace", "workspace", "undo"]
    assert decisions[1].statement_token is not None  # the rejection has a statement
    # bulk: both remaining held comments rejected in one step
    r = mod.post(
        "/moderate/bulk", {"ids": [held[1]["id"], held[2]["id"]], "action": "reject", "reason_code": "spam"}
    )
    assert r.status_code == 200, r.text
    assert {_status(app, held[1]["id"]), _status(app, held[2]["id"])} == {"rejected"}
    # feature a published comment
    assert mod.post(f"/moderate/comments/{held[0]['id']}/feature", {"featured": "1"}).status_code == 200
    with app.state.registry.db.read() as s:
        c = s.get(Comment, held[0]["id"])
        assert c is not None
        assert c.featured
    # CSRF: a cookie-authenticated write without the token is refused, nothing changes
    no_csrf = mod.client.post(f"/moderate/comments/{held[0]['id']}/reject", data={"reason_code": "spam"})
    assert no_csrf.status_code == 403
    assert no_csrf.json()["code"] == "csrf_failed"
    assert _status(app, held[0]["id"]) == "published"


def test_copy_wave_is_acted_on_in_one_step(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    original = _post(client, register(client)["token"], COPY)
    assert original["status"] == "published"
    ids = make_copy_wave(
        app.state.registry.db, clock, original["id"], [COPY + " !", "Kopie: " + COPY, COPY + " ?"]
    )
    copies = [{"id": i} for i in ids]
    mod = moderator(app, clock)
    waves = mod.get("/moderate/queue/waves")
    assert f"w-{original['id']}" in waves.text
    assert "3" in waves.text
    card = mod.get(f"/moderate/comments/{copies[0]['id']}")
    assert "<ins>" in card.text or "<del>" in card.text or "Compare" in card.text or "Vergleich" in card.text
    r = mod.post(f"/moderate/waves/{original['id']}/reject", {"reason_code": "copy_spam"})
    assert r.status_code == 200, r.text
    assert {_status(app, c["id"]) for c in copies} == {"rejected"}
    assert _status(app, original["id"]) == "published"
    assert mod.post("/moderate/undo").status_code == 200
    assert {_status(app, c["id"]) for c in copies} == {"held"}
    assert mod.post("/moderate/waves/999999/approve").status_code == 404


def test_reporters_learn_the_outcome(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    configure_site(app, "test", moderation={"reports": {"requeue_after": 0}})
    comment = _post(client, register(client)["token"], "Ein strittiger Satz.")
    reporter = register(client)
    r = client.post(
        f"/api/v1/comments/{comment['id']}/reports",
        json={"reason": "insult", "detail": "beleidigend", "good_faith": True},
        headers=bearer(reporter["token"]),
    )
    assert r.status_code == 201, r.text
    mod = moderator(app, clock)
    assert "Ein strittiger Satz." in mod.get("/moderate/queue/reported").text
    assert mod.post(f"/moderate/comments/{comment['id']}/approve").status_code == 200
    mine = client.get("/api/v1/me/reports", headers=bearer(reporter["token"])).json()["reports"]
    assert [(x["status"], x["outcome"]) for x in mine] == [("resolved", "kept")]
    told = client.get("/api/v1/me/notifications", headers=bearer(reporter["token"])).json()
    [item] = [n for n in told["items"] if n["kind"] == "report"]
    assert item["data"]["outcome"] == "kept"
    assert item["data"]["comment_id"] == comment["id"]
    assert item["data"]["thread_key"] == "story-1"  # the widget links the comment with it
    assert "Ein strittiger Satz." not in mod.get("/moderate/queue/reported").text


def test_sanctions_are_visible_to_the_author(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    author = register(client)
    _post(client, author["token"], "Hallo zusammen.")
    author_id = author["account"]["id"]
    mod = moderator(app, clock)
    drawer = mod.get(f"/moderate/authors/{author_id}", headers={"HX-Request": "true"})
    assert drawer.status_code == 200
    assert author["account"]["name"] in drawer.text
    assert (
        mod.post(
            f"/moderate/authors/{author_id}/sanction", {"kind": "warning", "reason_code": "insult"}
        ).status_code
        == 200
    )
    r = mod.post(
        f"/moderate/authors/{author_id}/sanction",
        {"kind": "suspension", "reason_code": "insult", "days": "7", "note": "Eine Woche Pause."},
    )
    assert r.status_code == 200, r.text
    mine = client.get("/api/v1/me/sanctions", headers=bearer(author["token"])).json()
    assert mine["status"] == "suspended"
    assert mine["suspended_until"]
    assert [s["kind"] for s in mine["sanctions"]] == ["suspension", "warning"]
    suspension = mine["sanctions"][0]
    assert suspension["note"] == "Eine Woche Pause."
    assert suspension["statement_url"]
    statement = client.get(
        suspension["statement_url"].removeprefix("http://testserver"), headers={"Accept": "application/json"}
    ).json()
    assert statement["decision"] == "suspended"
    assert statement["comment_id"] is None
    refused = client.post(
        "/api/v1/threads/story-1/comments", json={"body": "Noch was"}, headers=bearer(author["token"])
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_suspended"
    assert (
        mod.post(f"/moderate/authors/{author_id}/sanction", {"kind": "lift", "note": "ok"}).status_code == 200
    )
    with app.state.registry.db.read() as s:
        account = s.get(Account, author_id)
        assert account is not None
        assert account.status == "active"


def test_story_controls_and_settings(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    comment = _post(client, register(client)["token"], "Erster!")
    mod = moderator(app, clock, role="admin")
    with app.state.registry.db.read() as s:
        thread = s.scalar(select(Thread).where(Thread.key == "story-1"))
        assert thread is not None
    assert "story-1" in mod.get("/moderate/stories").text
    assert mod.post(f"/moderate/stories/{thread.id}", {"premoderate": "on", "heat": "on"}).status_code == 200
    assert mod.post(f"/moderate/stories/{thread.id}", {"status": "closed"}).status_code == 200
    with app.state.registry.db.read() as s:
        t = s.get(Thread, thread.id)
        assert t is not None
        assert t.status == "closed"
        assert t.settings == {"premoderate": True, "heat": True}
    settings = mod.get("/moderate/settings")
    assert settings.status_code == 200
    r = mod.post("/moderate/settings/test/terms", {"banned": "idiot*\nvolltrottel", "suspect": "lügenpresse"})
    assert r.status_code == 200, r.text
    tried = mod.post("/moderate/settings/test/try", {"text": "Ihr seid I d i o t e n", "name": "Tester"})
    assert tried.status_code == 200
    assert "verdict-reject" in tried.text
    assert "banned_term" in tried.text
    draft = mod.post("/moderate/settings/test/try", {"text": "Trottoir", "banned": "trottel", "suspect": ""})
    assert "verdict-publish" in draft.text
    assert mod.post("/moderate/settings/test/terms", {"banned": "a*b"}).status_code == 422
    assert mod.post("/moderate/settings/test/guests", {}).status_code == 200
    assert (
        mod.post(
            "/moderate/settings/test/cta",
            {"title": "Unterstützen Sie uns", "link": "https://example.org/abo"},
        ).status_code
        == 200
    )
    with app.state.registry.db.read() as s:
        from parley.sites.services import get_site_by_slug

        policy = get_site_by_slug(s, "test").policy()
    assert policy.guests_allowed is False
    assert policy.cta is not None
    assert policy.moderation.terms.banned == ("idiot*", "volltrottel")
    assert comment["id"]


def test_audit_log_is_append_only_and_exports(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    comment = _post(client, register(client, email="leserin@example.org")["token"], "Kommentar")
    mod = moderator(app, clock)
    assert mod.post(f"/moderate/comments/{comment['id']}/reject", {"reason_code": "spam"}).status_code == 200
    assert "comment.reject" in mod.get("/moderate/audit").text
    jsonl = mod.get("/moderate/audit/export.jsonl")
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    import orjson

    events = [orjson.loads(line) for line in jsonl.text.splitlines()]
    reject = next(e for e in events if e["action"] == "comment.reject")
    assert reject["object_id"] == comment["id"]
    assert reject["actor_id"] == mod.account_id
    assert reject["data"]["changes"][0]["before"] == "published"
    csv_text = mod.get("/moderate/audit/export.csv").text
    assert csv_text.splitlines()[0].startswith("id,created_at,site_id,actor_kind")
    assert "comment.reject" in csv_text
    assert "@" not in jsonl.text
    assert "@" not in csv_text
    db = app.state.registry.db
    with db.write() as s:
        from parley.audit.services import do_audit

        do_audit(
            s,
            action="test.leak",
            object_type="x",
            object_id=None,
            now=clock.now(),
            site_id=site_id(db, "test"),
            data={"email": "x@example.org", "note": "from 203.0.113.9 by bob@example.org"},
        )
    leaked = mod.get("/moderate/audit/export.jsonl").text
    assert "203.0.113.9" not in leaked
    assert "example.org" not in leaked
    assert "[redacted]" in leaked
    db = app.state.registry.db
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), db.write() as s:
            s.execute(text(statement))
    with db.read() as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "x")) is None


def test_copies_posted_by_other_accounts_form_a_wave_in_the_queue(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    original = _post(client, register(client)["token"], COPY)
    copies = [
        _post(client, register(client)["token"], COPY + " Teilen!"),
        _post(client, register(client)["token"], "Genau: " + COPY),
    ]
    assert [c["status"] for c in copies] == ["held", "held"]
    mod = moderator(app, clock)
    waves = mod.get("/moderate/queue/waves")
    assert f'id="w-{original["id"]}"' in waves.text
    assert (
        mod.post(f"/moderate/waves/{original['id']}/reject", {"reason_code": "copy_spam"}).status_code == 200
    )
    assert {_status(app, c["id"]) for c in copies} == {"rejected"}


def test_markup_in_comments_is_shown_as_text_everywhere(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    configure_site(app, "test", moderation={"premoderate_all": True})
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)> "><svg onload=alert(3)>'
    author = register(client)
    posted = _post(client, author["token"], payload)
    mod = moderator(app, clock)
    pages = [
        mod.get("/moderate/queue/held"),
        mod.get(f"/moderate/comments/{posted['id']}"),
        mod.get(f"/moderate/authors/{author['account']['id']}"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "<svg onload" not in page.text
    assert f'id="c-{posted["id"]}"' in pages[0].text  # the card is there, its text inert


def test_an_approved_held_comment_becomes_the_original_of_later_copies(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    configure_site(app, "test", moderation={"premoderate_all": True})
    original = _post(client, register(client)["token"], COPY)
    assert original["status"] == "held"
    mod = moderator(app, clock)
    assert mod.post(f"/moderate/comments/{original['id']}/approve").status_code == 200
    configure_site(app, "test", moderation={"premoderate_all": False})
    clock.advance(60)
    other = bearer(register(client)["token"])
    copy = client.post("/api/v1/threads/story-2/comments", json={"body": COPY + "!"}, headers=other).json()
    assert copy["comment"]["status"] == "held"
    assert [r["code"] for r in copy["reasons"] if r["phase"] == "copies"] == ["copy_spam"]
