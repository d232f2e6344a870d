"""The admin API: API tokens (from ``parley tokens add`` and the factories), roles, site-bound
tokens, sites and their settings, thread settings, closing and opening threads."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parley.accounts.models import Role
from parley.cli.main import app as cli
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.factories import bearer, make_account, make_api_token, make_comments, make_site, post

SITES = "/api/v1/admin/sites"


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "PARLEY_DATABASE_URL": settings.database_url,
        "PARLEY_DATA_DIR": str(settings.data_dir),
        "PARLEY_SECRET_KEY": "test-secret-key-not-for-production",
    }


def run(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env=cli_env(settings))
    return result


@pytest.fixture
def admin(db: Database, clock: FrozenClock) -> str:
    return make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN, password=None))


def test_tokens_from_the_cli(client: TestClient, settings: Settings) -> None:
    made = run(
        settings, "users", "add", "--name", "Ada Admin", "--email", "ada@example.org", "--role", "admin"
    )
    assert made.exit_code == 0, made.output
    account_id = made.stdout.strip()
    token = run(settings, "tokens", "add", "--user", account_id, "--name", "deploy")
    assert token.exit_code == 0, token.output
    value = token.stdout.strip()
    assert value.startswith("pat_")
    r = client.get(SITES, headers=bearer(value))
    assert r.status_code == 200
    assert [s["slug"] for s in r.json()] == ["test"]
    bound = run(settings, "tokens", "add", "--user", account_id, "--name", "one site", "--site", "test")
    assert bound.exit_code == 0
    assert client.get(SITES, headers=bearer(bound.stdout.strip())).status_code == 200
    missing = run(settings, "tokens", "add", "--user", "999999", "--name", "nobody")
    assert missing.exit_code == 1


def test_who_may_use_the_admin_api(client: TestClient, db: Database, clock: FrozenClock) -> None:
    assert client.get(SITES).status_code == 401
    commenter = make_api_token(db, clock, make_account(db, clock, password=None))
    moderator = make_api_token(db, clock, make_account(db, clock, role=Role.MODERATOR, password=None))
    for token in (commenter, moderator):
        r = client.get(SITES, headers=bearer(token))
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"
        r = client.post(SITES, json={"slug": "x", "name": "X"}, headers=bearer(token))
        assert r.status_code == 403
    r = client.get(SITES, headers=bearer("pat_revoked-or-never-existed"))
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


def test_sites_and_their_settings(client: TestClient, admin: str) -> None:
    r = client.post(
        SITES,
        json={
            "slug": "morgenpost",
            "name": "Morgenpost",
            "allowed_origins": ["https://www.Morgenpost.example:443/artikel"],
            "settings": {
                "guests_allowed": False,
                "cta": {"title": "Abo", "link": "https://morgenpost.example/abo"},
            },
            "sso_secret": "s" * 40,
        },
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["allowed_origins"] == ["https://www.morgenpost.example"]
    assert site["settings"]["guests_allowed"] is False
    assert site["settings"]["edit_window_seconds"] == 900
    assert site["sso"] == {"hs256": True, "rs256": False, "issuer": None, "audience": None}
    assert "s" * 40 not in r.text  # secrets are never shown back
    dup = client.post(SITES, json={"slug": "morgenpost", "name": "Nochmal"}, headers=bearer(admin))
    assert dup.status_code == 409
    assert dup.json()["code"] == "conflict"
    r = client.patch(
        f"{SITES}/morgenpost",
        json={
            "name": "Morgenpost Online",
            "settings": {"moderation": {"max_length": 800}},
            "sso_issuer": "mp",
        },
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "Morgenpost Online"
    assert patched["settings"]["guests_allowed"] is False  # merged, not replaced
    assert patched["settings"]["moderation"]["max_length"] == 800
    assert patched["settings"]["cta"]["title"] == "Abo"
    assert patched["sso"]["issuer"] == "mp"
    # the new settings apply to the public API at once
    r = client.post(
        "/api/v1/threads/a/comments",
        json={"body": "Gast?", "author_name": "Gast"},
        headers={"X-Parley-Site": "morgenpost"},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "guests_not_allowed"
    assert client.get(f"{SITES}/morgenpost", headers=bearer(admin)).json() == patched
    assert client.get(f"{SITES}/nope", headers=bearer(admin)).status_code == 404


def test_a_site_bound_token_sees_only_its_site(client: TestClient, db: Database, clock: FrozenClock) -> None:
    other = make_site(db, clock, "andere", name="Andere Zeitung")
    make_comments(db, clock, "story", 1)
    account = make_account(db, clock, role=Role.ADMIN, password=None)
    token = make_api_token(db, clock, account, site_id=other)
    r = client.get(SITES, headers=bearer(token))
    assert [s["slug"] for s in r.json()] == ["andere"]
    assert client.get(f"{SITES}/andere", headers=bearer(token)).status_code == 200
    for method, path, body in (
        ("GET", f"{SITES}/test", None),
        ("PATCH", f"{SITES}/test", {"name": "Gekapert"}),
        ("GET", f"{SITES}/test/threads/story", None),
        ("POST", f"{SITES}/test/threads/story/close", None),
    ):
        r = client.request(method, path, json=body, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (404, "site_not_found"), (method, path)
    r = client.post(SITES, json={"slug": "neu", "name": "Neu"}, headers=bearer(token))
    assert r.status_code == 403
    assert client.get("/api/v1/threads/story/comments").json()["thread"]["status"] == "open"


def test_threads_close_open_and_settings(
    client: TestClient, db: Database, clock: FrozenClock, admin: str
) -> None:
    make_comments(db, clock, "politik/2025/wahl", 2)
    base = f"{SITES}/test/threads/politik/2025/wahl"
    r = client.get(base, headers=bearer(admin))
    assert r.status_code == 200, r.text
    thread = r.json()
    assert (thread["key"], thread["status"], thread["comment_count"]) == ("politik/2025/wahl", "open", 2)
    r = client.post(f"{base}/close", headers=bearer(admin))
    assert r.status_code == 200
    assert r.json()["status"] == "closed"
    assert r.json()["stored_status"] == "closed"
    r = post(client, "politik/2025/wahl", "Noch was?")
    assert r.status_code == 409
    assert r.json()["code"] == "thread_closed"
    r = client.post(f"{base}/open", headers=bearer(admin))
    assert r.json()["status"] == "open"
    r = client.patch(
        base, json={"title": "Wahl 2025", "settings": {"premoderate": True}}, headers=bearer(admin)
    )
    assert r.status_code == 200
    assert r.json()["title"] == "Wahl 2025"
    assert r.json()["settings"] == {"premoderate": True}
    held = post(client, "politik/2025/wahl", "Wird geprüft.")
    assert held.status_code == 201
    assert held.json()["comment"]["status"] == "held"
    r = client.patch(base, json={"status": "closed"}, headers=bearer(admin))
    assert r.json()["status"] == "closed"
    assert client.get(f"{SITES}/test/threads/unknown", headers=bearer(admin)).status_code == 404
    # closing a thread nobody has commented on yet creates it closed
    r = client.post(f"{SITES}/test/threads/embargo/close", headers=bearer(admin))
    assert r.status_code == 200
    assert r.json()["comment_count"] == 0
    r = post(client, "embargo", "Vor der Freigabe?")
    assert r.status_code == 409
