"""Assemble the widget from its sources into one script, once per process. No Node, no build step.

``assets/widget.js`` is hand-written, dependency-free JavaScript; ``assets/widget.css`` its styles;
``assets/messages.<lang>.json`` one catalogue per language. The bundle is ``widget.js`` with the
CSS, the catalogues and the version put in place of ``__CSS__``, ``__MESSAGES__`` and
``__VERSION__``, after removing comments and indentation (the JS is written so that this line-based
compaction is safe: only ``//`` comments, on lines of their own; no multi-line strings).
It is served Brotli-compressed (quality 11) or gzipped (level 9), as the browser accepts, with a
strong ETag per representation derived from its content.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from parley.web.encodings import Coding, encode, tagged

LANGUAGES = ("de", "en")
BUDGET_GZIP_BYTES = 15 * 1024  # JS + CSS, gzipped: the budget; a test holds us to it

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_SPACE = re.compile(r"\s*([{}:;,>])\s*")


@dataclass(frozen=True, slots=True)
class Bundle:
    body: bytes
    gzipped: bytes
    brotli: bytes
    digest: str  # hex sha256 of body, first 16 characters

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    def encoded(self, coding: Coding | None) -> tuple[bytes, str]:
        """The body and its strong ETag in ``coding`` (None: identity)."""
        if coding == "br":
            return self.brotli, tagged(self.etag, "br")
        if coding == "gzip":
            return self.gzipped, tagged(self.etag, "gzip")
        return self.body, self.etag

    @property
    def filename(self) -> str:
        """The content-addressed name: ``embed.<digest>.js`` (cacheable for a year)."""
        return f"embed.{self.digest}.js"


def _asset(name: str) -> str:
    return (resources.files("parley.embed") / "assets" / name).read_text(encoding="utf-8")


def compact_css(css: str) -> str:
    css = _CSS_COMMENT.sub("", css)
    css = " ".join(css.split())
    css = _CSS_SPACE.sub(r"\1", css)
    return css.replace(";}", "}")


def compact_js(js: str) -> str:
    """Drop full-line ``//`` comments, indentation and blank lines (the source uses no other comments)."""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def messages() -> dict[str, dict[str, object]]:
    return {lang: json.loads(_asset(f"messages.{lang}.json")) for lang in LANGUAGES}


def build(version: str) -> Bundle:
    js = compact_js(_asset("widget.js"))
    css = compact_css(_asset("widget.css"))
    catalogues = json.dumps(messages(), ensure_ascii=False, separators=(",", ":"))
    for placeholder, value in (
        ("__CSS__", json.dumps(css, ensure_ascii=False)),
        ("__MESSAGES__", catalogues),
        ("__VERSION__", json.dumps(version)),
    ):
        if js.count(placeholder) != 1:
            raise RuntimeError(f"widget.js must contain {placeholder} exactly once")
        js = js.replace(placeholder, value)
    body = js.encode("utf-8")
    return Bundle(
        body=body,
        gzipped=encode(body, "gzip", quality=9),
        brotli=encode(body, "br", quality=11),  # once per process: the smallest there is
        digest=hashlib.sha256(body).hexdigest()[:16],
    )


@cache
def bundle(version: str) -> Bundle:
    """The bundle for this process (built on first use; the sources are package data)."""
    return build(version)
