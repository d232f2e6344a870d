"""``/healthz`` says the process is up; ``/readyz`` that the database answers and, with ``redis_url``
set, Redis too — 503 while either is down (a private PostgreSQL and Redis are stopped for it, so
the session's shared servers stay up). While PostgreSQL is down the API answers 503
``service_unavailable`` with ``Retry-After``, not a 500, and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db import migrate
from support.apps import make_test_app, settings_for
from support.servers import PostgresServer, RedisServer, pg_bindir


def test_ready_when_the_database_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "up"}
    assert r.headers["cache-control"] == "no-store"


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[PostgresServer]:
    if pg_bindir() is None:
        pytest.fail("PostgreSQL is not installed: run `make install` (apt-get install postgresql)")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.mark.postgres
def test_not_ready_while_postgresql_is_down(
    own_pg: PostgresServer, tmp_path: Path, clock: FrozenClock
) -> None:
    app = create_app(settings_for(own_pg.url("postgres"), tmp_path, jobs_in_process=False), clock=clock)
    try:
        client = TestClient(app)
        assert client.get("/readyz").status_code == 200
        own_pg.stop()
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "database": "down"}
        assert client.get("/healthz").status_code == 200  # the process itself is fine
        own_pg.restart()
        assert client.get("/readyz").status_code == 200  # and it recovers without a restart
    finally:
        app.state.registry.close()


@pytest.mark.postgres
def test_the_api_answers_503_while_postgresql_is_down_and_stores_nothing(
    own_pg: PostgresServer, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = settings_for(own_pg.url("postgres"), tmp_path, jobs_in_process=False)
    migrate.upgrade(settings)
    app = make_test_app(settings, clock)
    url = "/api/v1/threads/{}/comments"
    try:
        # a middleware's database error reaches the outermost handler, which re-raises to the server
        client = TestClient(app, raise_server_exceptions=False)
        assert (
            client.post(url.format("a"), json={"body": "Vorher.", "author_name": "Gast"}).status_code == 201
        )
        own_pg.stop()
        for method, path, body in (
            ("POST", url.format("a"), {"body": "Während des Ausfalls.", "author_name": "Gast"}),
            ("GET", url.format("b"), None),
            ("GET", "/api/v1/counts?threads=a", None),
        ):
            r = client.request(method, path, json=body, headers={"Accept-Language": "de"})
            assert r.status_code == 503, (method, path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["retry-after"] == "5"
            problem = r.json()
            assert (problem["code"], problem["retry_after"]) == ("service_unavailable", 5)
            assert problem["title"].startswith("Der Dienst ist kurz nicht erreichbar.")
            assert "postgres" not in r.text.lower()
            assert "127.0.0.1" not in r.text
        own_pg.restart()
        client.cookies.clear()  # a new guest (the first one's session would want its CSRF header)
        after = client.post(url.format("a"), json={"body": "Nachher.", "author_name": "Gästin"})
        assert after.status_code == 201, after.text
        listing = client.get(url.format("a"), params={"view": "flat"}).json()
        html = [c["html"] for c in listing["comments"]]
        assert len(html) == 2
        assert not any("Während" in h for h in html)
    finally:
        app.state.registry.close()


@pytest.fixture
def redis_app(settings: Settings, clock: FrozenClock) -> Iterator[tuple[FastAPI, RedisServer]]:
    server = RedisServer().start()
    app = create_app(settings.model_copy(update={"redis_url": server.url}), clock=clock)
    try:
        yield app, server
    finally:
        app.state.registry.close()
        server.cleanup()


@pytest.mark.redis
def test_not_ready_while_redis_is_down(redis_app: tuple[FastAPI, RedisServer]) -> None:
    app, server = redis_app
    client = TestClient(app)
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "up", "redis": "up"}
    server.stop()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "up", "redis": "down"}
    # the thread view still answers from the database: the cache fails open
    assert client.get("/api/v1/threads/ohne-redis/comments").status_code in (200, 404)
