"""Sites: origins, slugs and settings checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from parley.errors import ValidationFailed
from parley.sites.models import Site
from parley.sites.services import _deep_merge, check_site_input, check_site_settings, normalize_origin


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://Example.com", "https://example.com"),
        ("https://example.com:443/path?q=1", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:8080", "http://example.com:8080"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("  https://news.example  ", "https://news.example"),
        ("ftp://example.com", None),
        ("javascript:alert(1)", None),
        ("example.com", None),
        ("https://", None),
        ("http://[bad", None),
    ],
)
def test_normalize_origin(origin: str, expected: str | None) -> None:
    assert normalize_origin(origin) == expected


def test_site_input() -> None:
    assert check_site_input("my-site", "Meine Zeitung", ["https://A.example/x"]) == ["https://a.example"]
    for slug, name, origins in (
        ("My Site", "n", []),
        ("-x", "n", []),
        ("x" * 65, "n", []),
        ("ok", " ", []),
        ("ok", "n", ["nope"]),
    ):
        with pytest.raises(ValidationFailed):
            check_site_input(slug, name, origins)


def test_settings_errors_name_the_setting() -> None:
    assert check_site_settings({}).edit_window_seconds == 900
    with pytest.raises(ValidationFailed) as info:
        check_site_settings({"edit_window_seconds": "forever", "moderation": {"max_length": 0}, "colour": 1})
    fields = {e["field"] for e in info.value.errors}
    assert fields == {"settings.edit_window_seconds", "settings.moderation.max_length", "settings.colour"}


def test_settings_merge_deeply() -> None:
    base: dict[str, Any] = {
        "guests_allowed": False,
        "moderation": {"max_length": 800, "links": {"max_links": 2}},
    }
    merged = _deep_merge(base, {"moderation": {"links": {"max_links": 5}}, "locale": "en"})
    assert merged == {
        "guests_allowed": False,
        "moderation": {"max_length": 800, "links": {"max_links": 5}},
        "locale": "en",
    }


def test_a_sites_policy_is_kept_while_its_settings_stay_equal() -> None:
    site = Site(slug="s", name="S", settings={"guests_allowed": False})
    first = site.policy()
    assert site.policy() is first  # validated once
    assert first.guests_allowed is False
    site.settings = {"guests_allowed": True}  # a new value
    assert site.policy().guests_allowed is True
    site.settings["guests_allowed"] = False  # a change in place
    assert site.policy().guests_allowed is False
    with pytest.raises(ValidationError):  # shared, so frozen
        first.guests_allowed = True  # type: ignore[misc]
