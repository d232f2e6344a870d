"""The demo: ``parley demo`` loads the article and its six comments once (idempotent), and ``/``
shows the article page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parley.cli.main import app as cli
from parley.config import Settings
from parley.demo.services import demo_data


def test_parley_demo_is_idempotent_and_the_page_renders(client: TestClient, settings: Settings) -> None:
    env = {
        "PARLEY_DATABASE_URL": settings.database_url,
        "PARLEY_DATA_DIR": str(settings.data_dir),
        "PARLEY_SECRET_KEY": "test-secret-key-not-for-production",
    }
    data = demo_data()
    key = data["thread"]["key"]
    first = CliRunner().invoke(cli, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert f"demo loaded: thread {key!r} with 6 comments" in first.stdout
    second = CliRunner().invoke(cli, ["demo"], env=env)
    assert second.exit_code == 0, second.output
    assert "already there" in second.stdout
    assert "6 comments" in second.stdout

    listing = client.get(f"/api/v1/threads/{key}/comments", params={"site": "demo", "sort": "oldest"}).json()
    assert listing["thread"]["comment_count"] == 6
    assert listing["thread"]["title"] == data["thread"]["title"]
    tops = listing["comments"]
    names = [c["author"]["name"] for c in tops]
    expected_tops = [c for c in data["comments"] if not c.get("parent")]
    assert names == [c["name"] for c in expected_tops]
    assert [(c["up"], c["down"]) for c in tops] == [(c["up"], c["down"]) for c in expected_tops]
    replies = {c["author"]["name"]: r["author"]["name"] for c in tops for r in c["replies"]}
    by_ref = {c["ref"]: c["name"] for c in data["comments"]}
    assert replies == {by_ref[c["parent"]]: c["name"] for c in data["comments"] if c.get("parent")}
    assert listing["site"]["cta"]["button"] == data["cta"]["button"]
    flat = client.get(f"/api/v1/threads/{key}/comments", params={"site": "demo", "view": "flat"}).json()
    assert len(flat["comments"]) == 6

    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert data["thread"]["title"].split(" – ")[0] in page.text
    assert key in page.text


def test_the_page_works_before_the_demo_is_loaded(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def test_demo_page_answers_head(client: TestClient) -> None:
    r = client.head("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
