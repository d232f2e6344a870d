"""Fixtures shared by every suite: settings, databases (SQLite and a real PostgreSQL), the app.

Functional tests that take ``db_url`` (directly or through ``app``/``client``) run once per
database backend chosen with ``--db`` (default: both). PostgreSQL is a private server started from
Debian's package for the session (see ``support/servers.py``); each test gets a fresh database
cloned from a migrated template, and each SQLite test a fresh copy of a migrated file.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from parley.clock import FrozenClock
from parley.config import Settings
from parley.db import migrate
from support.servers import PostgresServer, RedisServer, pg_bindir

TEST_SECRET = "test-secret-key-not-for-production"
SUITE_LOG = "suite-app.log"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("PARLEY_TEST_DBS", "sqlite,postgresql"),
        help="comma-separated database backends for functional tests: sqlite,postgresql",
    )
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow (make soak)")


def pytest_configure(config: pytest.Config) -> None:
    # the environment must not leak into tests: they build their settings explicitly
    for key in list(os.environ):
        if key.startswith("PARLEY_") and key != "PARLEY_TEST_DBS":
            del os.environ[key]
    # The suite scores with the shipped models only: models a developer trained locally (var/models,
    # the default user model directory) would change verdicts. Servers that tests start inherit this.
    os.environ["PARLEY_MODEL_DIR"] = str(
        Path(os.environ.get("TMPDIR", "/tmp")) / f"parley-no-models-{os.getpid()}"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: runs in `make soak` (--run-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def backends(config: pytest.Config) -> list[str]:
    chosen = [b.strip() for b in str(config.getoption("--db")).split(",") if b.strip()]
    unknown = set(chosen) - {"sqlite", "postgresql"}
    if unknown:
        raise pytest.UsageError(f"unknown --db backend(s): {sorted(unknown)}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        params = [
            pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgresql" else [])
            for b in backends(metafunc.config)
        ]
        metafunc.parametrize("backend", params, scope="session")


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "public_url": "http://testserver",
        "default_site": "test",
        "log_level": "WARNING",
        "jobs_in_process": False,  # tests run jobs explicitly (parley.jobs.services.run_due)
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session", autouse=True)
def _suite_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every log record of the session (at the levels its loggers let through) into one file, which
    ``tests/security/test_zz_privacy_logs.py``, run last, greps for comment bodies, e-mail addresses
    and client addresses."""
    handler = logging.FileHandler(tmp_path_factory.getbasetemp() / SUITE_LOG, encoding="utf-8", delay=True)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # aiosmtpd ("mail.log") is the tests' SMTP sink, not Parley: it logs the envelope it receives
    handler.addFilter(lambda record: not record.name.startswith("mail.log"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if pg_bindir() is None:
        pytest.fail("PostgreSQL is not installed: run `make install` (apt-get install postgresql)")
    server = PostgresServer().start()
    server.psql("CREATE DATABASE parley_template")
    migrate.upgrade(make_settings(server.url("parley_template"), Path(server.dir)))
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for the session (Debian's package), like ``pg_server``."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("sqlite-template")
    path = d / "parley.db"
    migrate.upgrade(make_settings(f"sqlite:///{path}", d))
    return path


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "parley.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name} TEMPLATE parley_template")
    yield server.url(name)
    server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)
