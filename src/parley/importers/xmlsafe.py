"""Streaming XML for importers: lxml ``iterparse`` with the defences of defusedxml.

No DTD (a file that declares one is refused outright), no entity resolution, no network, no huge
trees; elements are cleared as soon as they are handled, so memory stays flat for a 1 GB export.
Syntax errors become :class:`FormatError` with the line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from parley.importers.sources import FormatError


def local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(el: Any) -> str:
    tag = el.tag
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else ""


def text(el: Any) -> str:
    """The element's text content (CDATA included), or "" — entity references are not expanded."""
    if el is None:
        return ""
    return "".join(t for t in el.itertext() if isinstance(t, str))


def iter_elements(path: Path) -> Iterator[tuple[str, Any]]:
    """``("start"|"end", element)`` events; the caller clears what it handled (:func:`release`)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:  # closed however the caller stops (end, error, or an abandoned generator)
        try:
            events = etree.iterparse(
                fh,
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            )
            first = True
            for event, el in events:
                if first:
                    first = False
                    if el.getroottree().docinfo.doctype:
                        raise FormatError(
                            f"{path}: line {el.sourceline}: DTDs are not allowed in an import file"
                        )
                yield event, el
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno else "?"
            raise FormatError(f"{path}: line {line}: broken XML: {exc.msg}") from None


def release(el: Any) -> None:
    """Free a handled element and the siblings before it (the tree never grows with the file)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]
