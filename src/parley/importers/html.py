"""Imported HTML (WordPress, Disqus) → Markdown source, so imported comments are stored, rendered and
edited like any other: the source goes through :func:`parley.comments.rendering.render` (Markdown
with raw HTML off, then nh3), which is what makes it safe; this converter only keeps the formatting.

Kept: paragraphs, line breaks, bold, italics, strike-through, code, quotes, lists and links (http,
https, mailto). Scripts, styles and every other tag vanish; their text stays, Markdown characters in
it escaped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_ESCAPE = re.compile(r"([\\`*_\[\]])")
_DROP_CONTENT = {"script", "style", "head", "title", "iframe", "object", "template", "noscript"}
_INLINE = {
    "strong": "**",
    "b": "**",
    "em": "*",
    "i": "*",
    "del": "~~",
    "s": "~~",
    "strike": "~~",
    "code": "`",
}
_BLOCK = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr"}
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.drop = 0
        self.quote = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.link: list[str | None] = []
        self.pre = 0
        self.code = 0
        self.after: str = ""  # "br" or "block": the next text's leading newline is layout, not content

    def _newline(self, blank: bool = False) -> None:
        prefix = "> " * self.quote
        self.out.append(("\n" + prefix if blank else "") + "\n" + prefix)
        self.after = "block" if blank else "br"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.drop += 1
        if self.drop:
            return
        if tag in _INLINE and not self.pre:
            self.code += tag == "code"
            self.out.append(_INLINE[tag])
        elif tag == "br":
            self._newline()
        elif tag == "blockquote":
            self.quote += 1
            self._newline(blank=True)
        elif tag == "pre":
            self.pre += 1
            self._newline(blank=True)
            self.out.append("```\n")
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
            self._newline(blank=True)
        elif tag == "li":
            self._newline()
            if self.lists:
                self.lists[-1][1] += 1
                ordered, n = self.lists[-1]
                self.out.append("  " * (len(self.lists) - 1) + (f"{n}. " if ordered else "- "))
            else:
                self.out.append("- ")
        elif tag in _BLOCK:
            self._newline(blank=True)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            ok = href.strip().lower().startswith(("http://", "https://", "mailto:"))
            self.link.append(href.strip() if ok else None)
            if ok:
                self.out.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.drop = max(0, self.drop - 1)
            return
        if self.drop:
            return
        if tag in _INLINE and not self.pre:
            self.code -= tag == "code" and self.code > 0
            self.out.append(_INLINE[tag])
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline(blank=True)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("\n```")
            self._newline(blank=True)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newline(blank=True)
        elif tag in _BLOCK:
            self._newline(blank=True)
        elif tag == "a" and self.link:
            href = self.link.pop()
            if href is not None:
                self.out.append(f"]({href.replace(')', '%29').replace(' ', '%20')})")

    def handle_data(self, data: str) -> None:
        if self.drop:
            return
        if self.pre or self.code:
            self.out.append(data.replace("`", "'") if self.code else data)
            return
        if self.after == "br" and data.startswith("\n"):
            data = data[1:]
        elif self.after == "block":
            data = data.lstrip("\n")
        self.after = ""
        if not data:
            return
        text = _ESCAPE.sub(r"\\\1", data)
        if self.quote:
            text = text.replace("\n", "\n" + "> " * self.quote)
        self.out.append(text)


def html_to_markdown(fragment: str) -> str:
    """Markdown source for an HTML fragment (plain text with newlines passes through as is)."""
    conv = _Converter()
    conv.feed(fragment.replace("\r\n", "\n").replace("\r", "\n"))
    conv.close()
    text = "".join(conv.out)
    lines = [_SPACES.sub(" ", line).rstrip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
