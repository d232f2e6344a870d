"""Imported HTML becomes Markdown source that renders to safe HTML and keeps its plain text."""

from __future__ import annotations

import pytest

from parley.comments.rendering import render
from parley.importers.html import html_to_markdown


def rendered(fragment: str) -> tuple[str, str]:
    body = render(html_to_markdown(fragment))
    return body.html, body.text


def test_wordpress_text_keeps_lines_paragraphs_and_formatting() -> None:
    html, text = rendered("Erste <b>fett</b> und <em>schräg</em>\nzweite Zeile\n\nNeuer Absatz")
    assert "<strong>fett</strong>" in html
    assert "<em>schräg</em>" in html
    assert text == "Erste fett und schräg\nzweite Zeile\n\nNeuer Absatz"


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>sichtbar",
        '<img src=x onerror="alert(1)">sichtbar',
        '<a href="javascript:alert(1)">sichtbar</a>',
        '<p onclick="alert(1)">sichtbar</p>',
        "<iframe src='https://evil.example'></iframe>sichtbar",
        '<a href="data:text/html,<script>alert(1)</script>">sichtbar</a>',
    ],
)
def test_active_content_never_survives(payload: str) -> None:
    html, text = rendered(payload)
    lowered = html.lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "data:", "<img"):
        assert bad not in lowered
    assert text == "sichtbar"


def test_links_are_kept_with_rel_and_markdown_characters_in_text_are_literal() -> None:
    html, text = rendered('Siehe <a href="https://example.org/a_b?x=1">den *Plan*</a> [sic]')
    assert 'href="https://example.org/a_b?x=1"' in html
    assert 'rel="nofollow ugc noopener"' in html
    assert text == "Siehe den *Plan* [sic]"


def test_quotes_lists_and_code() -> None:
    html, text = rendered("<blockquote>Zitat</blockquote><ul><li>eins</li><li>zwei</li></ul><code>a*b</code>")
    assert "<blockquote>" in html
    assert "<li>eins</li>" in html
    assert "<code>a*b</code>" in html
    assert "eins\nzwei" in text


def test_entities_are_decoded_once() -> None:
    _, text = rendered("Tom &amp; Jerry &lt;3 &quot;ok&quot; &#8211; ü")
    assert text == 'Tom & Jerry <3 "ok" – ü'
