"""Parley's own JSON export, read back (``parley import parley FILE.json``).

The file is one JSON document, written one record per line so it can be read as a stream::

    {"format": "parley-export", "version": 1, "site": {...}, "items": [
    {"type": "thread", ...},
    {"type": "comment", ...}
    ]}

Any JSON tool can read it whole; this reader takes it a line at a time (flat memory).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from parley.importers.sources import (
    BodyFormat,
    FormatError,
    SourceComment,
    SourceItem,
    SourceThread,
    parse_time,
)

FORMAT = "parley-export"
VERSION = 1
HEADER_END = '"items": ['
FOOTER = "]}"


def header_line(site: dict[str, Any]) -> str:
    head = json.dumps({"format": FORMAT, "version": VERSION, "site": site}, ensure_ascii=False)
    return head[:-1] + ", " + HEADER_END + "\n"


def parse(path: Path) -> Iterator[SourceItem]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        try:
            first = fh.readline()
            if not first.rstrip().endswith(HEADER_END):
                raise FormatError(f"{path}: line 1: not a Parley export (no {HEADER_END!r} header)")
            header = json.loads(first.rstrip()[: -len(HEADER_END)].rstrip().rstrip(",") + "}")
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise FormatError(f"{path}: line 1: not a Parley export of version {VERSION}")
            ended = False
            for lineno, line in enumerate(fh, start=2):
                line = line.strip()
                if not line:
                    continue
                if line == FOOTER:
                    ended = True
                    continue
                if ended:
                    raise FormatError(f"{path}: line {lineno}: data after the end of the export")
                try:
                    obj = json.loads(line.rstrip(","))
                except json.JSONDecodeError as exc:
                    raise FormatError(f"{path}: line {lineno}: broken JSON: {exc.msg}") from None
                yield _item(path, lineno, obj)
        except UnicodeDecodeError:
            raise FormatError(f"{path}: not UTF-8 text") from None
        if not ended:
            raise FormatError(f"{path}: the export is cut off (no closing {FOOTER!r})")


def _item(path: Path, lineno: int, obj: Any) -> SourceItem:
    where = f"{path}: line {lineno}"
    if not isinstance(obj, dict) or obj.get("type") not in ("thread", "comment"):
        raise FormatError(f"{where}: expected a thread or comment record")
    try:
        if obj["type"] == "thread":
            return SourceThread(
                ref=str(obj["ref"]),
                key=str(obj["key"]),
                title=str(obj.get("title") or ""),
                url=str(obj.get("url") or ""),
                closed=obj.get("status") == "closed",
                created_at=parse_time(obj.get("created_at"), where=where) if obj.get("created_at") else None,
            )
        author = obj.get("author") or {}
        status = str(obj["status"])
        if status not in ("published", "held", "rejected", "deleted"):
            raise FormatError(f"{where}: unknown status {status[:20]!r}")
        return SourceComment(
            ref=str(obj["ref"]),
            thread_ref=str(obj["thread"]),
            parent_ref=str(obj["parent"]) if obj.get("parent") is not None else None,
            author_name=str(author.get("name") or ""),
            author_email=author.get("email") or None,
            author_key=None,
            body=str(obj.get("body") or ""),
            body_format=BodyFormat.MARKDOWN,
            status=status,
            created_at=parse_time(obj.get("created_at"), where=where),
            up=int(obj.get("up") or 0),
            down=int(obj.get("down") or 0),
            line=lineno,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{where}: missing or invalid field {exc}") from None
