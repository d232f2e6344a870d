"""The OpenAPI 3.1 document at /api/v1/openapi.json tells the truth.

- Its shape: every API operation documents its errors as ``application/problem+json`` (the
  Problem schema), and every JSON success body has a real schema.
- Its content: a tour of every core route (comments, accounts, admin), success and failure, where
  the client checks each response against the document (``support/openapi.py``: status
  documented, media type documented, body valid against the closed schema).
- The checker itself: it catches a body that lies.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.accounts.models import Role
from parley.clock import FrozenClock
from parley.db.database import Database
from support.apps import contract_for
from support.factories import bearer, make_account, make_api_token, make_site, register
from support.openapi import Contract, ContractViolation

# the server core's routes (comments, accounts, admin of sites and threads); other domains' routes
# are checked whenever their functional tests call them, through the same client
CORE = {
    "/api/v1/threads/{thread_key}/comments",
    "/api/v1/comments/{comment_id}",
    "/api/v1/comments/{comment_id}/replies",
    "/api/v1/comments/{comment_id}/vote",
    "/api/v1/comments/{comment_id}/reports",
    "/api/v1/counts",
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/sso",
    "/api/v1/me",
    "/api/v1/admin/sites",
    "/api/v1/admin/sites/{slug}",
    "/api/v1/admin/sites/{slug}/threads/{key}",
    "/api/v1/admin/sites/{slug}/threads/{key}/close",
    "/api/v1/admin/sites/{slug}/threads/{key}/open",
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    doc = app.openapi()
    return [
        (m.upper(), p, op)
        for p, ops in doc["paths"].items()
        for m, op in ops.items()
        if p.startswith("/api/")
    ]


def test_served_document_is_openapi_3_1(client: TestClient, app: FastAPI) -> None:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc == app.openapi()
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}


def test_every_api_operation_documents_problems(app: FastAPI) -> None:
    for method, path, op in operations(app):
        responses = op["responses"]
        assert "default" in responses, f"{method} {path}: no default (problem) response"
        for status, spec in responses.items():
            if status == "default" or int(status) >= 400:
                content = spec.get("content", {})
                assert content == {"application/problem+json": {"schema": PROBLEM_REF}}, (
                    method,
                    path,
                    status,
                )


def test_json_success_bodies_have_schemas(app: FastAPI) -> None:
    for method, path, op in operations(app):
        if path not in CORE:
            continue
        for status, spec in op["responses"].items():
            if not status.startswith("2"):
                continue
            schema = spec.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            assert schema not in ({}, {"type": "string"}), f"{method} {path} {status}: body undocumented"


def test_the_checker_catches_lies(app: FastAPI) -> None:
    contract = Contract(app.openapi())
    ok = b'{"id": 1, "up": 2, "down": 0, "my_vote": 1}'
    contract.check("PUT", "/api/v1/comments/1/vote", 200, "application/json", ok)
    lies = [
        (200, "application/json", b'{"id": 1, "up": 2, "down": 0}'),  # a field missing
        (200, "application/json", b'{"id": 1, "up": "2", "down": 0, "my_vote": 1}'),  # a wrong type
        (200, "application/json", b'{"id": 1, "up": 2, "down": 0, "my_vote": 1, "secret": 1}'),  # extra
        (200, "application/json", b'{"id": 1, "up": 2, "down": 0, "my_vote": 5}'),  # out of the enum
        (200, "text/html", b"<p>hi</p>"),  # an undocumented media type
        (404, "application/json", b'{"detail": "Not Found"}'),  # an error that is no problem document
        (404, "application/problem+json", b'{"code": "not_found"}'),  # an incomplete problem
    ]
    for status, media, body in lies:
        with pytest.raises(ContractViolation):
            contract.check("PUT", "/api/v1/comments/1/vote", status, media, body)


def test_a_tour_of_every_core_route(
    client: TestClient, app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    secret = "tour-secret-0123456789-0123456789-abc"
    make_site(db, clock, "sso", name="SSO-Zeitung", sso_secret=secret)
    admin = make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN, password=None))
    user = register(client, name="Tina Tour", email="tina@example.org")
    auth = bearer(user["token"])
    # comments
    r = client.post("/api/v1/threads/tour/comments", json={"body": "Erster", "author_name": "Gustav Gast"})
    cid = r.json()["comment"]["id"]
    client.cookies.clear()
    reply = client.post(
        "/api/v1/threads/tour/comments", json={"body": "Antwort", "parent_id": cid}, headers=auth
    )
    assert reply.status_code == 201
    client.post("/api/v1/threads/tour/comments", json={"body": "x", "parent_id": 999999}, headers=auth)
    client.post(
        "/api/v1/threads/tour/comments", json={"body": "Nochmal"}, headers={**auth, "Idempotency-Key": "k"}
    )
    client.post(
        "/api/v1/threads/tour/comments", json={"body": "Anders"}, headers={**auth, "Idempotency-Key": "k"}
    )
    client.get("/api/v1/threads/tour/comments", params={"replies": 0})
    client.get("/api/v1/threads/tour/comments", params={"view": "flat"}, headers=auth)
    client.get("/api/v1/threads/tour/comments", params={"cursor": "forged"})
    client.get(f"/api/v1/comments/{cid}")
    client.get("/api/v1/comments/999999")
    client.get(f"/api/v1/comments/{cid}/replies", params={"limit": 1})
    mine = reply.json()["comment"]["id"]
    client.patch(f"/api/v1/comments/{mine}", json={"body": "Geändert"}, headers=auth)
    client.patch(f"/api/v1/comments/{cid}", json={"body": "Fremd"}, headers=auth)
    client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=auth)
    client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    client.post(f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth)
    client.post(f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth)
    client.post(f"/api/v1/comments/{cid}/reports", json={"reason": "nope"})
    client.delete(f"/api/v1/comments/{mine}", headers=auth)
    client.delete(f"/api/v1/comments/{cid}", headers=auth)
    client.get("/api/v1/counts", params={"threads": "tour,none"})
    client.get("/api/v1/counts")
    # accounts
    client.post(
        "/api/v1/auth/register", json={"name": "Tina Tour", "email": "t2@example.org", "password": "x" * 12}
    )
    client.post("/api/v1/auth/login", json={"email": "tina@example.org", "password": "wrong password"})
    login = client.post(
        "/api/v1/auth/login", json={"email": "tina@example.org", "password": "correct horse battery staple"}
    )
    client.cookies.clear()
    client.get("/api/v1/me", headers=bearer(login.json()["token"]))
    client.get("/api/v1/me")
    client.patch("/api/v1/me", json={"name": "Tina Tourist"}, headers=auth)
    token = jwt.encode(
        {"sub": "s1", "name": "Sven Sso", "exp": int(time.time()) + 60}, secret, algorithm="HS256"
    )
    client.post("/api/v1/auth/sso", json={"token": token}, headers={"X-Parley-Site": "sso"})
    client.post("/api/v1/auth/sso", json={"token": "a.b.c"}, headers={"X-Parley-Site": "sso"})
    client.cookies.clear()
    client.post("/api/v1/auth/logout", headers=auth)
    client.post("/api/v1/auth/logout")
    # admin
    adm = bearer(admin)
    client.get("/api/v1/admin/sites", headers=adm)
    client.get("/api/v1/admin/sites")
    client.post("/api/v1/admin/sites", json={"slug": "neu", "name": "Neue Zeitung"}, headers=adm)
    client.post("/api/v1/admin/sites", json={"slug": "neu", "name": "Neue Zeitung"}, headers=adm)
    client.get("/api/v1/admin/sites/neu", headers=adm)
    client.patch("/api/v1/admin/sites/neu", json={"settings": {"edit_window_seconds": 60}}, headers=adm)
    client.patch("/api/v1/admin/sites/neu", json={"settings": {"edit_window_seconds": -1}}, headers=adm)
    client.get("/api/v1/admin/sites/test/threads/tour", headers=adm)
    client.get("/api/v1/admin/sites/test/threads/none", headers=adm)
    client.patch("/api/v1/admin/sites/test/threads/tour", json={"title": "Tour"}, headers=adm)
    client.post("/api/v1/admin/sites/test/threads/tour/close", headers=adm)
    client.post("/api/v1/threads/tour/comments", json={"body": "Zu"}, headers=auth)
    client.post("/api/v1/admin/sites/test/threads/tour/open", headers=adm)
    # the failures not seen above
    client.get("/api/v1/comments/999999/replies")
    client.patch("/api/v1/me", json={"name": "Ohne Anmeldung"})
    client.cookies.set("parley_session", login.json()["token"])
    client.post("/api/v1/auth/logout")  # cookie without its CSRF token
    client.cookies.clear()
    client.get("/api/v1/admin/sites/nope", headers=adm)
    client.patch("/api/v1/admin/sites/test/threads/x", json={"status": "ajar"}, headers=adm)
    client.post("/api/v1/admin/sites/nope/threads/x/close", headers=adm)
    client.post("/api/v1/admin/sites/nope/threads/x/open", headers=adm)

    seen = contract_for(app).seen
    core_ops = {(m, p) for m, p, _ in operations(app) if p in CORE} - {("DELETE", "/api/v1/me")}  # privacy's
    assert len(core_ops) == 23
    succeeded = {(m, p) for m, p, status in seen if status < 300}
    failed = {(m, p) for m, p, status in seen if status >= 400}
    assert core_ops - succeeded == set(), "core routes the tour never saw succeed"
    assert core_ops - failed == set(), "core routes the tour never saw fail"
