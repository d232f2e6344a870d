"""Statements of reasons (DSA Art. 17) and appeals (Art. 20), end to end through HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from parley.audit.models import AuditEvent
from parley.clock import FrozenClock
from parley.comments.models import Comment
from parley.notifications.models import Notification
from parley.transparency.services import build_report
from support.factories import bearer, configure_site, register
from support.workspace import moderator

STATEMENT_FIELDS = {
    "id",
    "comment_id",
    "decision",
    "facts",
    "grounds",
    "automated_detection",
    "automated_decision",
    "reasons",
    "created_at",
    "redress",
}


def _post(client: TestClient, token: str, body: str, thread: str = "story-1") -> dict[str, Any]:
    r = client.post(f"/api/v1/threads/{thread}/comments", json={"body": body}, headers=bearer(token))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _statement(client: TestClient, url: str, **headers: str) -> dict[str, Any]:
    path = url.removeprefix("http://testserver")
    r = client.get(path, headers={"Accept": "application/json", **headers})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_held_comment_has_a_statement_with_every_field(app: FastAPI, client: TestClient) -> None:
    configure_site(app, "test", moderation={"terms": {"suspect": ["trottel"]}})
    author = register(client)
    posted = _post(client, author["token"], "Der Minister ist ein T r o t t e l, finde ich.")
    assert posted["comment"]["status"] == "held"
    statement = _statement(client, posted["statement_url"])
    assert set(statement) == STATEMENT_FIELDS
    assert statement["comment_id"] == posted["comment"]["id"]
    assert statement["decision"] == "held"
    assert statement["automated_detection"] is True
    assert statement["automated_decision"] is True
    assert statement["grounds"]["type"] == "terms_of_service"
    assert "Testzeitung" in statement["grounds"]["reference"]
    assert set(statement["redress"]) == {"appeal_url", "deadline"}
    assert statement["redress"]["appeal_url"].endswith(f"/api/v1/statements/{statement['id']}/appeal")
    # the term phase's reason (a classifier may add its own)
    [reason] = [r for r in statement["reasons"] if r["code"] == "suspect_term"]
    assert set(reason) == {"phase", "code", "detail"}
    assert reason["code"] == "suspect_term"
    # the evidence in words a reader understands, in the author's language (the site's: German)
    assert "„trottel“" in reason["detail"], reason
    assert "T r o t t e l" in reason["detail"]
    english = _statement(client, posted["statement_url"] + "?lang=en")
    assert any(r["detail"].startswith('Contains the term "trottel"') for r in english["reasons"])
    assert english["facts"].startswith("Your comment of")
    # the widget's copy: the same JSON under /api/v1
    api = client.get(f"/api/v1/statements/{statement['id']}")
    assert api.status_code == 200
    assert api.json()["id"] == statement["id"]
    # the page: HTML with a CSP without 'unsafe-inline'
    page = client.get(posted["statement_url"].removeprefix("http://testserver"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert client.get("/statements/unknown-token-xyz").status_code == 404


def test_appeal_once_by_the_author_then_a_problem(app: FastAPI, client: TestClient) -> None:
    configure_site(app, "test", moderation={"terms": {"banned": ["volltrottel"]}})
    author = register(client)
    other = register(client)
    posted = _post(client, author["token"], "Du Volltrottel!")
    assert posted["comment"]["status"] == "rejected"
    appeal_url = _statement(client, posted["statement_url"])["redress"]["appeal_url"]
    path = appeal_url.removeprefix("http://testserver")
    refused = client.post(path, json={"text": "Das war ich nicht"}, headers=bearer(other["token"]))
    assert refused.status_code == 403
    assert refused.json()["code"] == "appeal_not_author"
    assert client.post(path, json={"text": "anonym"}).status_code == 401
    first = client.post(path, json={"text": "Das war Satire."}, headers=bearer(author["token"]))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open"
    second = client.post(path, json={"text": "Nochmal!"}, headers=bearer(author["token"]))
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["code"] == "appeal_exists"
    mine = client.get(path, headers=bearer(author["token"]))
    assert mine.status_code == 200
    assert mine.json()["id"] == first.json()["id"]


def test_appeal_window_closes(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    from datetime import timedelta

    from support.factories import PASSWORD

    configure_site(app, "test", moderation={"terms": {"banned": ["volltrottel"]}})
    author = register(client)
    posted = _post(client, author["token"], "Du Volltrottel!")
    path = _statement(client, posted["statement_url"])["redress"]["appeal_url"].removeprefix(
        "http://testserver"
    )
    clock.advance(timedelta(days=app.state.registry.settings.appeal_window_days + 1).total_seconds())
    login = client.post(
        "/api/v1/auth/login", json={"email": author["account"]["email"], "password": PASSWORD}
    )
    client.cookies.clear()
    late = client.post(path, json={"text": "zu spät"}, headers=bearer(login.json()["token"]))
    assert late.status_code == 409
    assert late.json()["code"] == "appeal_window_closed"


def test_another_moderator_decides_the_appeal_and_a_reversal_republishes(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    db = app.state.registry.db
    author = register(client)
    posted = _post(client, author["token"], "Ein ganz normaler Kommentar zum Thema.")
    comment_id = posted["comment"]["id"]
    assert posted["comment"]["status"] == "published"
    first_mod = moderator(app, clock)
    second_mod = moderator(app, clock)

    r = first_mod.post(
        f"/moderate/comments/{comment_id}/reject", {"reason_code": "insult", "note": "Bitte sachlich."}
    )
    assert r.status_code == 200, r.text
    with db.read() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None
        assert comment.status == "rejected"
    own = client.get(f"/api/v1/comments/{comment_id}", headers=bearer(author["token"])).json()
    assert own["status"] == "rejected"
    listing = client.get("/api/v1/threads/story-1/comments", headers=bearer(author["token"])).json()
    [pending] = listing["own_pending"]
    statement = _statement(client, pending["statement_url"])
    assert statement["decision"] == "rejected"
    assert statement["automated_detection"] is False
    assert statement["automated_decision"] is False
    assert statement["reasons"][-1]["code"] == "insult"
    assert "Bitte sachlich." in statement["grounds"]["explanation"]
    path = statement["redress"]["appeal_url"].removeprefix("http://testserver")
    appeal = client.post(path, json={"text": "Das war keine Beleidigung."}, headers=bearer(author["token"]))
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["id"]

    queue = first_mod.get("/moderate/queue/appeals")
    assert queue.status_code == 200
    assert "Das war keine Beleidigung." in queue.text
    same = first_mod.post(
        f"/moderate/appeals/{appeal_id}/decide", {"outcome": "reverse", "reason": "Ich irrte."}
    )
    assert same.status_code == 403
    assert same.json()["code"] == "appeal_same_moderator"
    decided = second_mod.post(
        f"/moderate/appeals/{appeal_id}/decide",
        {"outcome": "reverse", "reason": "Zugespitzt, aber zulässig."},
    )
    assert decided.status_code == 200, decided.text
    again = second_mod.post(f"/moderate/appeals/{appeal_id}/decide", {"outcome": "uphold", "reason": "x"})
    assert again.status_code == 409
    assert again.json()["code"] == "appeal_decided"

    with db.read() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None
        assert comment.status == "published"
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        told = list(s.scalars(select(Notification).where(Notification.account_id == author["account"]["id"])))
        report = build_report(s, clock.now().replace(year=2000), clock.now().replace(year=2100))
    assert [a for a in actions if a.startswith(("comment.", "appeal."))] == [
        "comment.reject",
        "appeal.created",
        "appeal.reversed",
    ]
    assert any(n.kind == "appeal" and n.data.get("upheld") is False for n in told)
    published = client.get("/api/v1/threads/story-1/comments").json()["comments"]
    assert [c["id"] for c in published] == [comment_id]
    outcome = client.get(path, headers=bearer(author["token"])).json()
    assert outcome["status"] == "reversed"
    assert outcome["outcome_reason"] == "Zugespitzt, aber zulässig."
    assert report["appeals"] == {
        "received": 1,
        "reversed": 1,
        "upheld": 0,
        "open": 0,
        "median_seconds_to_decision": 0.0,
    }
    assert report["decisions"]["human"] == 1
    assert report["decisions"]["by_reason"] == {"insult": 1}
    page = client.get(statement["id"] and f"/statements/{statement['id']}")
    assert page.status_code == 200


def test_automated_decision_may_be_decided_by_any_moderator(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    configure_site(app, "test", moderation={"terms": {"suspect": ["trottel"]}})
    author = register(client)
    posted = _post(client, author["token"], "So ein Trottel.")
    statement = _statement(client, posted["statement_url"])
    path = statement["redress"]["appeal_url"].removeprefix("http://testserver")
    appeal_id = client.post(path, json={"text": "Bitte prüfen."}, headers=bearer(author["token"])).json()[
        "id"
    ]
    mod = moderator(app, clock)
    r = mod.post(f"/moderate/appeals/{appeal_id}/decide", {"outcome": "uphold", "reason": "Bleibt gesperrt."})
    assert r.status_code == 200, r.text
    assert client.get(path, headers=bearer(author["token"])).json()["status"] == "upheld"


def test_a_suspension_is_appealed_and_lifted_by_another_moderator(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    author = register(client)
    _post(client, author["token"], "Ein Kommentar.")
    first_mod, second_mod = moderator(app, clock), moderator(app, clock)
    r = first_mod.post(
        f"/moderate/authors/{author['account']['id']}/sanction",
        {"kind": "suspension", "days": "3", "reason_code": "insult", "note": "Drei Tage Pause."},
    )
    assert r.status_code == 200, r.text
    [sanction] = client.get("/api/v1/me/sanctions", headers=bearer(author["token"])).json()["sanctions"]
    statement = _statement(client, sanction["statement_url"] + "?lang=en")
    assert statement["decision"] == "suspended"
    assert statement["facts"].startswith("Your account is suspended until")
    assert statement["reasons"] == [
        {"phase": "moderator", "code": "insult", "detail": "Insult or personal attack"}
    ]
    path = statement["redress"]["appeal_url"].removeprefix("http://testserver")
    appeal = client.post(path, json={"text": "Unverhältnismäßig."}, headers=bearer(author["token"]))
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["id"]
    same = first_mod.post(f"/moderate/appeals/{appeal_id}/decide", {"outcome": "reverse", "reason": "x"})
    assert same.json()["code"] == "appeal_same_moderator"
    assert "Unverhältnismäßig." in second_mod.get("/moderate/queue/appeals?lang=en").text
    r = second_mod.post(
        f"/moderate/appeals/{appeal_id}/decide", {"outcome": "reverse", "reason": "Zu streng."}
    )
    assert r.status_code == 200, r.text
    mine = client.get("/api/v1/me/sanctions", headers=bearer(author["token"])).json()
    assert mine["status"] == "active"
    assert [s["kind"] for s in mine["sanctions"]] == ["lifted", "suspension"]
    english = second_mod.get("/moderate/queue/reported?lang=en")
    assert "Nothing waiting here. Well done." in english.text
    assert english.cookies.get("parley_lang") == "en"
