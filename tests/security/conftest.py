"""Fixtures of the security battery (``tests/security``, see ``docs/security.md``).

- ``redis_server`` (from ``tests/conftest.py``): a private redis-server for the session.
- Every test of the battery runs with the ``parley`` loggers at DEBUG into one file
  (:data:`APP_LOG`), which ``test_zz_privacy_logs.py`` — ordered last in the session — greps for
  bodies, e-mail addresses and client addresses, together with the log file of every
  ``parley serve`` process the session started.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.apps import app, client, db

__all__ = ["app", "client", "db"]
APP_LOG_NAME = "security-app.log"


def app_log_path(factory: pytest.TempPathFactory) -> Path:
    return factory.getbasetemp() / APP_LOG_NAME


@pytest.fixture(autouse=True)
def _app_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The app's own log records of this test, at DEBUG, appended to the battery's log file."""
    handler = logging.FileHandler(app_log_path(tmp_path_factory), encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in ("parley", "uvicorn", "uvicorn.access", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


# The battery's fast part (make test) runs on SQLite; its PostgreSQL runs are marked slow and run in
# make soak — except where two app instances on PostgreSQL are the point of the test.
BOTH_BACKENDS_FAST = {"test_concurrency_battery.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """PostgreSQL runs of the battery go to make soak (marked before the root conftest skips slow
    tests and before ``-m`` selects)."""
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name != "security" or path.name in BOTH_BACKENDS_FAST:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.slow)


class _LastOfTheSession:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The log check runs after everything else of the session (browser suite included)."""
        _privacy_last(items)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_LastOfTheSession(), "parley-security-last")


def _privacy_last(items: list[pytest.Item]) -> None:
    last = [item for item in items if Path(str(item.fspath)).name == "test_zz_privacy_logs.py"]
    if last:
        chosen = set(last)
        items[:] = [item for item in items if item not in chosen] + last
