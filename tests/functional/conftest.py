"""Functional fixtures: the app with a default site ``test``, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.factories import make_site


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    make_site(application.state.registry.db, clock, "test", name="Testzeitung",
              allowed_origins=["http://testserver"])
    yield application
    application.state.registry.close()


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.registry.db
    return database


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c
