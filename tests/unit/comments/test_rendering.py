"""Comment bodies: a small Markdown subset, sanitized, with the plain text moderation reads."""

from __future__ import annotations

import re

import pytest

from parley.comments.rendering import normalize_source, render


def test_normalize_source() -> None:
    assert normalize_source("  a\r\nb\rc\x00d\x07e\tf\x7f  ") == "a\nb\ncde\tf"


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**fett** und *schräg*", "<p><strong>fett</strong> und <em>schräg</em></p>"),
        ("~~weg~~", "<p><s>weg</s></p>"),
        ("`code`", "<p><code>code</code></p>"),
        ("> Zitat", "<blockquote>\n<p>Zitat</p>\n</blockquote>"),
        ("- eins\n- zwei", "<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>"),
        ("Zeile\nZeile", "<p>Zeile<br>\nZeile</p>"),
        ("# Titel", "<p># Titel</p>"),
        ("---", "<p>---</p>"),
    ],
)
def test_the_markdown_subset(source: str, html: str) -> None:
    assert render(source).html == html


def test_links_are_nofollow_and_collected() -> None:
    body = render("[Quelle](https://example.org/a) und https://example.com/b")
    assert body.html.count('rel="nofollow ugc noopener"') == 2
    assert body.links == ("https://example.org/a", "https://example.com/b")
    assert body.text == "Quelle und https://example.com/b"


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![bild](https://example.org/x.png)",
        '<a href="https://evil.example" onclick="x()">a</a>',
        "[x](vbscript:msgbox)",
    ],
)
def test_nothing_executable_survives(source: str) -> None:
    html = render(source).html
    tags = re.findall(r"<[a-z][^>]*>", html)  # real tags; escaped markup is text
    assert all(t.split()[0].strip("<>") in ("p", "a") for t in tags), tags
    assert not any(re.search(r"\son\w+\s*=", t) for t in tags)
    assert not any(re.search(r'href="(?!https?://)', t) for t in tags)


def test_plain_text_of_blocks() -> None:
    body = render("Absatz eins.\n\n> Zitat\n\n- a\n- b")
    assert body.text == "Absatz eins.\n\nZitat\n\na\nb"
    assert render("&amp; &lt;").text == "& <"
