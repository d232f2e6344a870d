"""Request bodies refuse strings that cannot be stored (NUL, unpaired surrogates), at any depth."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, ValidationError

from parley.web.inputs import ApiInput, check_storable, has_unstorable


class Body(ApiInput):
    text: str
    settings: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("ok", False),
        ("emoji 🙂 and ü", False),
        ("nul\x00", True),
        ("\ud800", True),
        ("\udfff tail", True),
        ({"k": ["a", {"deep": "x\x00"}]}, True),
        ({"k\x00": 1}, True),
        ([1, 2.5, None, True], False),
    ],
)
def test_has_unstorable(value: Any, bad: bool) -> None:
    assert has_unstorable(value) is bad


def test_fields_are_checked_recursively() -> None:
    Body(text="fine", settings={"a": {"b": ["c"]}}, tags=["x"])
    for bad in (
        {"text": "a\x00"},
        {"text": "a", "settings": {"a": ["\ud800"]}},
        {"text": "a", "tags": ["\x00"]},
    ):
        with pytest.raises(ValidationError) as info:
            Body.model_validate(bad)
        assert "NUL" in str(info.value)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Body.model_validate({"text": "a", "admin": True})


def test_check_storable() -> None:
    assert check_storable("abc") == "abc"
    with pytest.raises(ValueError, match="NUL"):
        check_storable("a\x00")
