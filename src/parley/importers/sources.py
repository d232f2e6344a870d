"""What every importer produces: a stream of :class:`SourceThread` and :class:`SourceComment`, in
file order, and :class:`FormatError` for a file that cannot be read (naming line and element)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class BodyFormat(StrEnum):
    HTML = "html"  # WordPress, Disqus: sanitized and turned into Markdown source
    MARKDOWN = "markdown"  # Isso, Parley's own export: already Markdown source


class FormatError(Exception):
    """The file is broken or of another format. The message names the file position; nothing of an
    import that fails this way has been written (files are checked whole before the first batch)."""


@dataclass(slots=True)
class SourceThread:
    ref: str  # the source's id of the article (post id, Disqus thread id, Isso thread id)
    key: str  # the Parley thread key
    title: str = ""
    url: str = ""
    closed: bool = False
    created_at: datetime | None = None


@dataclass(slots=True)
class SourceComment:
    ref: str
    thread_ref: str
    parent_ref: str | None
    author_name: str
    author_email: str | None
    author_key: str | None  # a stable identity in the source (Disqus username); else e-mail, else name
    body: str
    body_format: BodyFormat
    status: str  # published | held | rejected | deleted
    created_at: datetime
    up: int = 0
    down: int = 0
    line: int | None = None  # where it is in the file, for messages
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Skipped:
    """A source item deliberately not imported (pingbacks, trackbacks …), counted by ``reason``."""

    reason: str
    ref: str = ""


SourceItem = SourceThread | SourceComment | Skipped

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str | None, *, where: str) -> datetime:
    """ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` (taken as UTC); raises :class:`FormatError`."""
    text = (value or "").strip()
    if not text or text.startswith("0000-00-00"):
        raise FormatError(f"{where}: missing date")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(f"{where}: not a date: {text[:40]!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
