"""Disqus export (Admin → Community → Export): ``<thread>`` elements become threads, ``<post>``
elements comments. Thread keys: the thread's link (``--thread-key link``, default) or its identifier
(``id``, falling back to the link). ``isDeleted`` → deleted, ``isSpam`` → rejected, else published.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from parley.importers.sources import (
    BodyFormat,
    FormatError,
    SourceComment,
    SourceItem,
    SourceThread,
    parse_time,
)
from parley.importers.xmlsafe import iter_elements, local, release, text

DSQ_ID = "{http://disqus.com/disqus-internals}id"
ThreadKey = Literal["link", "id"]


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _fields(el: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in el:
        name = local(child)
        if name and name not in out:
            out[name] = child
    return out


def parse(path: Path, thread_key: ThreadKey = "link") -> Iterator[SourceItem]:
    root_checked = False
    for event, el in iter_elements(path):
        if event == "start":
            if not root_checked:
                root_checked = True
                if local(el) != "disqus":
                    raise FormatError(
                        f"{path}: line {el.sourceline}: not a Disqus export (root <{local(el)}>)"
                    )
            continue
        parent = el.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # only direct children of <disqus> are records
        name = local(el)
        if name == "thread":
            yield _thread(path, el, thread_key)
            release(el)
        elif name == "post":
            yield _post(path, el)
            release(el)
        elif name == "category":
            release(el)
    if not root_checked:
        raise FormatError(f"{path}: empty file")


def _thread(path: Path, el: Any, strategy: ThreadKey) -> SourceThread:
    ref = el.get(DSQ_ID) or ""
    if not ref:
        raise FormatError(f"{path}: line {el.sourceline}: <thread> without dsq:id")
    f = _fields(el)
    link = text(f.get("link")).strip()
    ident = text(f.get("id")).strip()
    key = (ident if strategy == "id" and ident else link) or ident or f"disqus-{ref}"
    try:
        created = parse_time(text(f.get("createdAt")), where="")
    except FormatError:
        created = None
    return SourceThread(
        ref=ref,
        key=key[:512],
        title=text(f.get("title")).strip(),
        url=link,
        closed=_truthy(text(f.get("isClosed"))),
        created_at=created,
    )


def _post(path: Path, el: Any) -> SourceComment:
    line = el.sourceline
    where = f"{path}: line {line}: <post>"
    ref = el.get(DSQ_ID) or ""
    if not ref:
        raise FormatError(f"{where} without dsq:id")
    f = _fields(el)
    thread = f.get("thread")
    thread_ref = thread.get(DSQ_ID) if thread is not None else None
    if not thread_ref:
        raise FormatError(f"{where} {ref}: no <thread dsq:id=…>")
    parent = f.get("parent")
    author = _fields(f["author"]) if "author" in f else {}
    username = text(author.get("username")).strip()
    anonymous = _truthy(text(author.get("isAnonymous")))
    if _truthy(text(f.get("isDeleted"))):
        status = "deleted"
    elif _truthy(text(f.get("isSpam"))):
        status = "rejected"
    elif "isApproved" in f and not _truthy(text(f.get("isApproved"))):
        status = "held"
    else:
        status = "published"
    return SourceComment(
        ref=ref,
        thread_ref=thread_ref,
        parent_ref=(parent.get(DSQ_ID) or None) if parent is not None else None,
        author_name=text(author.get("name")).strip() or username,
        author_email=text(author.get("email")).strip() or None,
        author_key=f"disqus:{username}" if username and not anonymous else None,
        body=text(f.get("message")),
        body_format=BodyFormat.HTML,
        status=status,
        created_at=parse_time(text(f.get("createdAt")), where=where),
        line=line,
    )
