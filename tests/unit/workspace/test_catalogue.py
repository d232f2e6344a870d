"""Every text of the workspace, the statement page and the statements themselves has German.

``tests/unit/test_i18n.py`` finds the texts in Python calls; this adds what it cannot see: ``_()``
and ``t.n()`` in the workspace and statement templates, the tables of statement texts and reason
labels, and the values templates translate at run time (statuses, kinds, report reasons).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parley import i18n
from parley.statements import services as statements
from parley.workspace import reasons

SRC = Path(__file__).resolve().parents[3] / "src" / "parley"
CALL = re.compile(r"""(?<![\w.])(_|t\.n)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
RUNTIME_VALUES = (
    # account status and kind, report reasons and outcomes, sanction kinds, comment statuses, actors
    *("active", "suspended", "banned", "local", "sso", "guest", "imported"),
    *("spam", "insult", "hate", "disinformation", "impersonation", "illegal", "privacy", "other"),
    *("kept", "removed", "open", "resolved"),
    *("warning", "suspension", "ban", "premoderate", "lifted"),
    *("published", "held", "rejected", "deleted", "new", "system", "moderator", "admin", "author"),
    *("Approved.", "Rejected.", "Featured.", "No longer featured.", "Undone.", "Saved."),
    *("Appeal reversed.", "Appeal upheld.", "This account may not use the moderation workspace."),
    "The text contains characters that cannot be stored.",
    *("{n} s", "{n} min", "{n} h", "{n} days"),  # Translator.duration
)


def template_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in (SRC / "workspace" / "templates", SRC / "statements" / "templates"):
        for path in sorted(folder.glob("*.html")):
            for m in CALL.finditer(path.read_text(encoding="utf-8")):
                found.setdefault(m.group(2) or m.group(3), path.name)
    return found


def all_msgids() -> dict[str, str]:
    found = template_msgids()
    for text in (*statements.FACTS.values(), statements.AUTOMATED_EXPLANATION):
        found.setdefault(text, "statements/services.py")
    for text in (statements.RULES_REFERENCE, statements.RULES_REFERENCE_ITEM):
        found.setdefault(text, "statements/services.py")
    for code in reasons.REASON_CODES:
        found.setdefault(code.label, "workspace/reasons.py")
    for text in reasons.SPECIAL_LABELS.values():
        found.setdefault(text, "workspace/reasons.py")
    for text in RUNTIME_VALUES:
        found.setdefault(text, "runtime value")
    return found


def test_the_collector_sees_templates() -> None:
    found = template_msgids()
    assert "Would this be caught, and why?" in found
    assert "{n} held copy" in found
    assert len(found) > 150


@pytest.mark.parametrize("locale", ["de"])
def test_every_workspace_text_is_translated(locale: str) -> None:
    translated = i18n.all_msgids(locale)
    missing = sorted(
        f"{where}: {msgid!r}" for msgid, where in all_msgids().items() if msgid not in translated
    )
    assert not missing, f"{len(missing)} texts without a {locale} translation:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"\{(\w+)\}")
    for msgid in all_msgids():
        german = i18n.gettext("de", msgid)
        assert set(placeholder.findall(german)) == set(placeholder.findall(msgid)), msgid
