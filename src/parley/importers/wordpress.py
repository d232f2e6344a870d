"""WordPress WXR 1.0–1.2 (Tools → Export): posts and pages become threads, ``<wp:comment>`` comments.

Thread keys: the post's permalink (``--thread-key link``, default), its post id (``id``) or its guid
(``guid``); a ``<parley:thread_key>`` written by Parley's own WXR export wins, so an export
re-imports under the same keys. Statuses: ``1`` → published, ``0`` → held, ``spam`` → rejected,
``trash``/``post-trashed`` → deleted. Pingbacks and trackbacks are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from parley.importers.sources import (
    BodyFormat,
    FormatError,
    Skipped,
    SourceComment,
    SourceItem,
    SourceThread,
    parse_time,
)
from parley.importers.xmlsafe import iter_elements, local, namespace, release, text

WP_NS_PREFIX = "http://wordpress.org/export/"
PARLEY_NS = "https://parley.invalid/export/1"
ThreadKey = Literal["link", "id", "guid"]
STATUSES = {
    "1": "published",
    "approve": "published",
    "0": "held",
    "hold": "held",
    "spam": "rejected",
    "trash": "deleted",
    "post-trashed": "deleted",
}
THREAD_TYPES = {"post", "page"}
_ITEM_FIELDS = {
    "title",
    "link",
    "guid",
    "post_id",
    "post_type",
    "status",
    "comment_status",
    "post_date_gmt",
    "post_date",
    "parley_thread_key",
}


def _children(el: Any) -> dict[str, Any]:
    """Children by local name; Parley's own additions as ``parley_<name>``."""
    out: dict[str, Any] = {}
    for child in el:
        name = local(child)
        if namespace(child) == PARLEY_NS:
            name = "parley_" + name
        if name and name not in out:
            out[name] = child
    return out


class _Item:
    __slots__ = ("emitted", "fields", "line")

    def __init__(self, line: int) -> None:
        self.fields: dict[str, str] = {}
        self.emitted = False
        self.line = line


def parse(path: Path, thread_key: ThreadKey = "link") -> Iterator[SourceItem]:
    item: _Item | None = None
    seen_channel = False
    for event, el in iter_elements(path):
        name = local(el)
        if event == "start":
            if not seen_channel and el.getparent() is None and name != "rss":
                raise FormatError(f"{path}: line {el.sourceline}: not a WordPress export (root <{name}>)")
            if name == "channel":
                seen_channel = True
            elif name == "item":
                item = _Item(el.sourceline or 0)
            continue
        parent = el.getparent()
        pname = local(parent) if parent is not None else ""
        if item is not None and pname == "item" and name != "comment":
            if namespace(el) == PARLEY_NS:
                name = "parley_" + name
            if name in _ITEM_FIELDS:
                item.fields[name] = text(el).strip()
            continue
        if name == "comment" and pname == "item" and namespace(el).startswith(WP_NS_PREFIX):
            if item is None:
                continue
            thread = _thread(path, item, thread_key)
            if not item.emitted:
                item.emitted = True
                yield thread
            yield _comment(path, el, thread.ref)
            release(el)
        elif name == "item":
            if item is not None and not item.emitted and _is_article(item):
                yield _thread(path, item, thread_key)
            item = None
            release(el)
    if not seen_channel:
        raise FormatError(f"{path}: not a WordPress export (no <channel>)")


def _is_article(item: _Item) -> bool:
    """Posts and pages become threads even without comments; drafts and attachments do not."""
    f = item.fields
    return f.get("post_type", "post") in THREAD_TYPES and f.get("status") not in ("auto-draft", "trash")


def _thread(path: Path, item: _Item, strategy: ThreadKey) -> SourceThread:
    f = item.fields
    post_id = f.get("post_id", "")
    if not post_id:
        raise FormatError(f"{path}: line {item.line}: <item> without <wp:post_id>")
    candidates = {"link": f.get("link", ""), "id": post_id, "guid": f.get("guid", "")}
    key = f.get("parley_thread_key") or candidates[strategy] or f.get("link", "") or post_id
    created = None
    for field in ("post_date_gmt", "post_date"):
        try:
            created = parse_time(f.get(field), where="")
            break
        except FormatError:
            continue
    return SourceThread(
        ref=post_id,
        key=key[:512],
        title=f.get("title", ""),
        url=f.get("link", ""),
        closed=f.get("comment_status") == "closed",
        created_at=created,
    )


def _comment(path: Path, el: Any, thread_ref: str) -> SourceItem:
    f = {k: text(v) for k, v in _children(el).items()}
    line = el.sourceline
    where = f"{path}: line {line}: <wp:comment>"
    ref = f.get("comment_id", "").strip()
    if not ref:
        raise FormatError(f"{where} without <wp:comment_id>")
    kind = f.get("comment_type", "").strip()
    if kind in ("pingback", "trackback"):
        return Skipped(kind, ref)
    approved = f.get("comment_approved", "").strip()
    status = f.get("parley_status", "").strip() or STATUSES.get(approved)
    if status is None:
        raise FormatError(f"{where} {ref}: unknown <wp:comment_approved> {approved[:20]!r}")
    try:
        created = parse_time(f.get("comment_date_gmt"), where=where)
    except FormatError:
        created = parse_time(f.get("comment_date"), where=where)
    parent = f.get("comment_parent", "").strip()
    email = f.get("comment_author_email", "").strip() or None
    return SourceComment(
        ref=ref,
        thread_ref=thread_ref,
        parent_ref=parent if parent and parent != "0" else None,
        author_name=f.get("comment_author", "").strip(),
        author_email=email,
        author_key=None,
        body=f.get("comment_content", ""),
        body_format=BodyFormat.HTML,
        status=status,
        created_at=created,
        line=line,
    )
