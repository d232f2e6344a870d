"""Comment bodies: a small Markdown subset, sanitized, with the plain text moderation reads."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.comments.rendering import _markdown, _plain_html, normalize_source, render


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


# every character the fast path accepts, and the ones next to them that start markup
_ALPHABET = "aZßé1 \n.,;!?'\"()%+=#/-–…€*_[]<>&:@~`\\\tw\u00a0"


# mostly what the fast path takes, to reach its corners (a domain needs a TLD: "x.com", "a.de")
_NEAR_PLAIN = "acdemoxZ1 \n.-+=#/()\"'"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet=_ALPHABET, max_size=40), st.text(alphabet=_NEAR_PLAIN, max_size=40)))
def test_the_fast_path_writes_what_markdown_it_writes(source: str) -> None:
    """A source without markup skips the parser; whenever it does, the HTML is byte for byte the
    parser's (and nothing in it is a link)."""
    source = normalize_source(source)
    fast = _plain_html(source)
    if fast is not None:
        md = _markdown()
        tokens = md.parse(source)
        assert fast == md.renderer.render(tokens, md.options, {})
        assert not any(c.type == "link_open" for t in tokens for c in t.children or ())


@pytest.mark.parametrize(
    "source",
    [
        "Ersuche diesen Beitrag nicht wieder zu zensieren!",
        "Das stimmt so nicht. Die Zahlen (2023) sagen etwas anderes, „leider“ …",
        "Erster Absatz.\n\nZweiter Absatz, mit Zeile\nund noch einer – 100 % sicher?",
    ],
)
def test_plain_comments_take_the_fast_path(source: str) -> None:
    assert _plain_html(source) is not None
    body = render(source)
    assert body.links == ()
    assert body.html.startswith("<p>")


@pytest.mark.parametrize(
    "source",
    [
        "siehe derstandard.at",
        "**fett**",
        "- Liste",
        "1. Punkt",
        "a_b_c",
        "Zeile  \nZeile",
        "//localhost",
        "mail an a@b",
    ],
)
def test_sources_that_may_hold_markup_go_to_the_parser(source: str) -> None:
    assert _plain_html(source) is None
