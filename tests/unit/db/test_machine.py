"""Opening the machine file while another process holds it (``parley serve --workers N`` starts its
workers together, and each opens the new file at once)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from parley.db.machine import MachineFile


def _a_writer_in_rollback_mode(path: Path) -> sqlite3.Connection:
    """Another opener midway: the file exists in rollback-journal mode and its write lock is held."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE early (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO early VALUES (1)")
    return other


def test_opening_waits_for_an_opener_that_holds_the_new_file(tmp_path: Path) -> None:
    # SQLite answers the switch to WAL with SQLITE_BUSY at once here, without the busy handler: the
    # open failed after a millisecond and the rate limiter admitted the request unlimited.
    path = tmp_path / "p.db.shared"
    other = _a_writer_in_rollback_mode(path)
    released = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    released.start()
    file = MachineFile(path)
    try:
        started = time.monotonic()
        with file.transaction() as conn:
            conn.execute("INSERT INTO rate_events VALUES ('k', 1.0)")
        waited = time.monotonic() - started
        with file.connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT count(*) FROM rate_events").fetchone()[0] == 1
        assert waited >= 0.25  # it waited for the other opener rather than going around it
    finally:
        released.join()
        other.close()
        file.close()


def test_opening_gives_up_when_the_file_stays_held(tmp_path: Path) -> None:
    path = tmp_path / "p.db.shared"
    other = _a_writer_in_rollback_mode(path)
    file = MachineFile(path, busy_ms=200)
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"), file.connection():
            pass
        assert 0.15 <= time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()
        file.close()
