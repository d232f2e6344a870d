"""The database of the ``parley.db`` unit tests: migrated, on each backend chosen with ``--db``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley.config import Settings
from parley.db.database import Database


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()
