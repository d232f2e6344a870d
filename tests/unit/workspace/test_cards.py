"""The comment card's evidence: marked spans and the word diff of a copy."""

from __future__ import annotations

from parley.moderation.types import Reason, Span, Verdict
from parley.workspace.cards import Segment, highlight, word_diff


def _reason(start: int, end: int, code: str = "banned_term") -> Reason:
    return Reason("terms", code, "", span=Span(start, end), verdict=Verdict.REJECT)


def test_highlight_marks_the_spans_as_written() -> None:
    text = "Du bist ein T r o t t e l und ein Idiot."
    start = text.index("T r o")
    segments = highlight(text, [_reason(start, start + len("T r o t t e l"))])
    assert segments == [
        Segment("Du bist ein "),
        Segment("T r o t t e l", "banned_term"),
        Segment(" und ein Idiot."),
    ]
    assert "".join(s.text for s in segments) == text


def test_overlapping_and_out_of_range_spans_never_lose_text() -> None:
    text = "abcdefghij"
    segments = highlight(text, [_reason(2, 6), _reason(4, 8, "suspect_term"), _reason(8, 99), _reason(9, 10)])
    assert "".join(s.text for s in segments) == text
    assert [s.mark for s in segments] == [None, "banned_term", None, "banned_term"]
    assert highlight("", []) == []


def test_word_diff_names_what_the_copy_changed() -> None:
    parts = word_diff("Die Preise steigen jeden Monat", "Die Mieten steigen jeden Monat weiter")
    assert [(p.op, p.text) for p in parts] == [
        ("equal", "Die"),
        ("delete", "Preise"),
        ("insert", "Mieten"),
        ("equal", "steigen jeden Monat"),
        ("insert", "weiter"),
    ]
