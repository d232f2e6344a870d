"""App and client fixtures shared by the functional and contract suites (imported by their conftests).

The client checks every API response against the app's OpenAPI document (``support.openapi``), so a
functional flow that gets an undocumented status, media type or field fails as a contract breach.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.factories import make_site
from support.openapi import Contract
from support.servers import PostgresServer

_contract: Contract | None = None


def contract_for(app: FastAPI) -> Contract:
    """The contract of the OpenAPI document (the same for every app instance: built once)."""
    global _contract
    if _contract is None:
        _contract = Contract(app.openapi())
    return _contract


def checking_client(app: FastAPI, **kw: object) -> TestClient:
    contract = contract_for(app)
    client = TestClient(app, base_url="http://testserver", **kw)  # type: ignore[arg-type]

    def check(response: Response) -> None:
        response.read()
        request = response.request
        contract.check(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type"),
            response.content,
        )

    client.event_hooks = {"request": [], "response": [check]}
    return client


# The default site of the functional suite. Its tests post faster than people do and use short
# bodies, so the rate limits and the text classifiers (whose verdicts on "Erster!" are a model's
# mood) are off there; their own tests switch them on. Everything else runs as on a new site.
TEST_MODERATION = {"rate": {"enabled": False}, "classifier": {"enabled": False}}


def make_test_app(settings: Settings, clock: FrozenClock) -> FastAPI:
    """The app ``parley serve`` would build on ``settings``, with the tests' site ``test``."""
    application = create_app(settings, clock=clock)
    make_site(
        application.state.registry.db,
        clock,
        "test",
        name="Testzeitung",
        allowed_origins=["http://testserver"],
        settings={"moderation": TEST_MODERATION},
    )
    return application


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = make_test_app(settings, clock)
    yield application
    application.state.registry.close()


def inside_write_unit() -> bool:
    """Whether the calling code runs inside a write unit of work right now (``Database.write()``,
    or a unit the writer thread runs for ``Database.run_write``): what a test checks to tell work
    inside the writers' lock from work outside it."""
    from parley.db.database import _CHANGED  # set for the duration of every write unit

    return _CHANGED.get() is not None


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.registry.db
    return database


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with checking_client(app) as c:
        yield c


@contextmanager
def module_database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    """A fresh migrated database for fixtures wider than one test (module or class scope)."""
    if backend == "sqlite":
        path = tmp / "parley.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = "m_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name} TEMPLATE parley_template")
    try:
        yield server.url(name)
    finally:
        server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def settings_for(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """The settings the root conftest's ``settings`` fixture builds, for wider-scoped fixtures."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-key-not-for-production",
        "public_url": "http://testserver",
        "default_site": "test",
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(**values)
