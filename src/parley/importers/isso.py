"""Isso's SQLite database (``isso.db``), read-only: threads (``uri``, ``title``) and comments with
their parents, likes and dislikes. Isso stores the Markdown source its readers typed. Thread keys are
the ``uri`` (the path Isso's embed uses); ``--base-url`` makes thread URLs from it. Isso ``mode`` 1 →
published, 2 → held, 4 → deleted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from parley.importers.sources import BodyFormat, FormatError, SourceComment, SourceItem, SourceThread

MODES = {1: "published", 2: "held", 4: "deleted"}


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise FormatError(f"{path}: not an SQLite database ({exc})") from None
    missing = {"threads", "comments"} - tables
    if missing:
        conn.close()
        raise FormatError(f"{path}: not an Isso database (no table {sorted(missing)[0]!r})")
    return conn


def parse(path: Path, base_url: str = "") -> Iterator[SourceItem]:
    conn = _connect(path)
    try:
        for tid, uri, title in conn.execute("SELECT id, uri, title FROM threads ORDER BY id"):
            yield SourceThread(
                ref=str(tid),
                key=str(uri)[:512],
                title=title or "",
                url=(base_url.rstrip("/") + str(uri)) if base_url else "",
            )
        rows = conn.execute(
            "SELECT tid, id, parent, created, mode, text, author, email, likes, dislikes "
            "FROM comments ORDER BY id"
        )
        for tid, cid, parent, created, mode, body, author, email, likes, dislikes in rows:
            status = MODES.get(int(mode or 1))
            if status is None:
                raise FormatError(f"{path}: comment {cid}: unknown mode {mode!r}")
            try:
                created_at = datetime.fromtimestamp(float(created), tz=UTC)
            except (TypeError, ValueError, OverflowError):
                raise FormatError(f"{path}: comment {cid}: bad creation time {created!r}") from None
            yield SourceComment(
                ref=str(cid),
                thread_ref=str(tid),
                parent_ref=str(parent) if parent else None,
                author_name=(author or "").strip(),
                author_email=(email or "").strip() or None,
                author_key=None,
                body=body or "",
                body_format=BodyFormat.MARKDOWN,
                status=status,
                created_at=created_at,
                up=int(likes or 0),
                down=int(dislikes or 0),
            )
    except sqlite3.DatabaseError as exc:
        raise FormatError(f"{path}: cannot read the Isso database ({exc})") from None
    finally:
        conn.close()
