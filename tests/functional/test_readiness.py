"""``/healthz`` says the process is up; ``/readyz`` that the database answers and, with ``redis_url``
set, Redis too — 503 while either is down (a private PostgreSQL and Redis are stopped for it, so
the session's shared servers stay up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from support.apps import settings_for
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
