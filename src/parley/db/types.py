"""Column types shared by all domains."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    and made aware again on the way out. Naive datetimes are refused on the way in: a bug, not data.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # a str comes from raw SQLite reads (no DBAPI conversion)
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


class IsoTimestamp(TypeDecorator[str]):
    """Read side only: a :class:`UTCDateTime` column straight to its RFC 3339 text, ``...Z``.

    ``type_coerce(Comment.created_at, IsoTimestamp())`` in a select hands the API the text it
    prints, instead of parsing into a datetime and formatting it back for every comment of a page
    (a sixth of a whole-thread request). SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC),
    which becomes text by slicing; PostgreSQL returns datetimes.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        raise TypeError("IsoTimestamp is for reading; bind datetimes through UTCDateTime")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            if len(value) in (19, 26) and value[10] == " ":
                text = value[:19] if value.endswith(".000000") else value
                return text[:10] + "T" + text[11:] + "Z"
            return iso_utc(datetime.fromisoformat(value))
        return iso_utc(value)


def iso_utc(ts: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, microseconds only when there are any (as ``isoformat`` does)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
