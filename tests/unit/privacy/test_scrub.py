"""Erasure scrubs a person's names out of stored moderation records (JSON and text) and nothing else."""

from __future__ import annotations

from parley.privacy.erasure import ERASED, _scrub


def test_names_are_replaced_wherever_they_are_quoted() -> None:
    reasons = [
        {
            "code": "name_impersonation",
            "detail": 'The name "Jürgen Größ" looks like "Juergen"',
            "params": {"name": "Jürgen Größ"},
        },
        {"code": "banned_term", "detail": "nothing personal"},
    ]
    scrubbed = _scrub(reasons, ["Jürgen Größ"])
    assert "Jürgen Größ" not in str(scrubbed)
    assert scrubbed[0]["params"]["name"] == ERASED
    assert scrubbed[1] == reasons[1]


def test_quotes_and_backslashes_in_names_do_not_break_the_json() -> None:
    name = 'Max "the \\ Hammer"'
    scrubbed = _scrub({"detail": f"by {name}!"}, [name])
    assert scrubbed == {"detail": f"by {ERASED}!"}


def test_untouched_values_are_returned_as_they_are() -> None:
    value = {"a": [1, 2]}
    assert _scrub(value, ["Nobody"]) is value
    assert _scrub("Text von Anna", ["Anna"]) == f"Text von {ERASED}"
