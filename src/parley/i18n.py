"""Translations of user-facing texts (German and English are first-class).

Catalogues are gettext ``.po`` files under ``parley/locale/<lang>/LC_MESSAGES/<domain>.po``, one
file per domain (``core``, ``moderation``, ``accounts``, …) so each domain owns its texts. They are
read with Babel when first needed (no compile step); msgids are the English texts, so English needs
no catalogue entries except plural forms. Placeholders use ``str.format`` names: ``{limit}``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

SUPPORTED_LOCALES: tuple[str, ...] = ("de", "en")
DEFAULT_LOCALE = "en"


@functools.cache
def _catalogue(locale: str) -> dict[str, str | tuple[str, ...]]:
    messages: dict[str, str | tuple[str, ...]] = {}
    base = resources.files("parley") / "locale" / locale / "LC_MESSAGES"
    if not base.is_dir():
        return messages
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for msg in catalog:
            if not msg.id or msg.fuzzy:
                continue
            key = msg.id[0] if isinstance(msg.id, (list, tuple)) else msg.id
            if isinstance(msg.string, (list, tuple)):
                if all(msg.string):
                    messages[key] = tuple(msg.string)
            elif msg.string:
                messages[key] = msg.string
    return messages


def normalize_locale(value: str | None) -> str | None:
    """Map ``de-AT``, ``de_DE``, ``EN`` … to a supported locale, or None."""
    if not value:
        return None
    lang = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in SUPPORTED_LOCALES else None


def negotiate(candidates: Iterable[str | None], accept_language: str | None = None) -> str:
    """First supported locale among explicit candidates, then the Accept-Language header."""
    for c in candidates:
        loc = normalize_locale(c)
        if loc:
            return loc
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for i, part in enumerate(accept_language.split(",")[:20]):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            loc = normalize_locale(tag)
            if loc and weight > 0:
                ranked.append((-weight, i, loc))
        if ranked:
            return sorted(ranked)[0][2]
    return DEFAULT_LOCALE


def gettext(locale: str, msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """Translate ``msgid`` into ``locale`` and fill ``{placeholders}`` from ``params``."""
    found = _catalogue(locale).get(msgid) if locale != DEFAULT_LOCALE else None
    text = found if isinstance(found, str) else msgid
    return _fill(text, params)


def ngettext(locale: str, singular: str, plural: str, n: int, params: Mapping[str, Any] | None = None) -> str:
    """Plural-aware translation; German and English both use ``n != 1``."""
    found = _catalogue(locale).get(singular)
    if isinstance(found, tuple) and len(found) >= 2:
        text = found[0] if n == 1 else found[1]
    else:
        text = singular if n == 1 else plural
    return _fill(text, {"n": n, **(params or {})})


def _fill(text: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return text
    try:
        return text.format_map(_SafeDict(params))
    except (ValueError, IndexError):  # a broken translation must never break a response
        return text


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def all_msgids(locale: str) -> set[str]:
    """Every msgid with a translation in ``locale`` (for the completeness test)."""
    return set(_catalogue(locale))
