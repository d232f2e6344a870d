"""What the SQLite driver itself runs: statements SQLAlchemy executes and ``parley.db.direct``'s
alike (engine events see only the former)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def driver_statements(session: Session) -> Iterator[list[str]]:
    """The statements run on ``session``'s SQLite connection meanwhile, transaction control left out."""
    seen: list[str] = []
    raw = session.connection().connection.driver_connection

    def note(statement: str) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION):
            seen.append(statement)

    raw.set_trace_callback(note)  # type: ignore[union-attr]
    try:
        yield seen
    finally:
        raw.set_trace_callback(None)  # type: ignore[union-attr]
