"""Every user-facing text in the server has a German translation (``parley/locale/de``).

The msgids are collected from the code itself, so a new error message or mail text without German
fails here: ``message = "..."`` in classes (errors), the English literal in calls to ``gettext``,
``ngettext`` and ``_``, problem titles, the tables of texts listed in :data:`TEXT_TABLES`, the
moderation reasons, and ``_("...")`` in mail templates.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "parley"
GETTEXT_FUNCS = {"gettext", "ngettext", "_"}
# module-level dicts whose string values (or tuple members) are msgids
TEXT_TABLES = {"_STATUS_CODES", "_TEXTS", "SUBJECTS", "_PAGE_TITLES"}
TEMPLATE_CALL = re.compile(r'_\(\s*"((?:[^"\\]|\\.)*)"')


def _strings(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Tuple):
        for elt in node.elts:
            yield from _strings(elt)


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def msgids_in_python(path: Path) -> Iterator[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = str(path.relative_to(SRC))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
                if isinstance(stmt, ast.AnnAssign):
                    target = stmt.target
                value = getattr(stmt, "value", None)
                if isinstance(target, ast.Name) and target.id == "message" and value is not None:
                    for s in _strings(value):
                        yield s, where
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name in GETTEXT_FUNCS:
                # i18n.gettext(locale, msgid, …), i18n.ngettext(locale, singular, plural, …), _(msgid, …)
                positions = {"gettext": [1], "ngettext": [1, 2], "_": [0]}[name]
                for i in positions:
                    if i < len(node.args):
                        yield from ((s, where) for s in _strings(node.args[i]))
            elif name == "problem":
                for kw in node.keywords:
                    if (
                        kw.arg == "title"
                        and isinstance(kw.value, ast.Constant)
                        and isinstance(kw.value.value, str)
                    ):
                        yield kw.value.value, where
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id in TEXT_TABLES and isinstance(node.value, ast.Dict):
                for v in node.value.values:
                    for s in _strings(v):
                        if " " in s:  # table values mix codes and texts; texts have spaces
                            yield s, where


def all_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for msgid, where in msgids_in_python(path):
            found.setdefault(msgid, where)
    for path in sorted((SRC / "notifications" / "templates").glob("*.*")):
        for m in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m.group(1).replace('\\"', '"'), str(path.relative_to(SRC)))
    from parley.moderation import messages

    for msgid in messages.all_msgids():
        found.setdefault(msgid, "moderation/messages.py")
    return found


def test_the_collector_finds_texts_of_every_kind() -> None:
    found = all_msgids()
    assert "This comment does not exist (any more)." in found  # an error class
    assert "The request body is not valid JSON." in found  # a problem title
    assert "Read the reply:" in found  # a mail template
    assert "New reply to your comment" in found  # a subject table
    assert len(found) > 80


@pytest.mark.parametrize("locale", ["de"])
def test_every_text_has_a_translation(locale: str) -> None:
    translated = i18n.all_msgids(locale)
    missing = sorted(
        f"{where}: {msgid!r}" for msgid, where in all_msgids().items() if msgid not in translated
    )
    assert not missing, f"{len(missing)} texts without a {locale} translation:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"\{(\w+)\}")
    catalogue = i18n._catalogue("de")
    broken = []
    for msgid in all_msgids():
        text = catalogue.get(msgid)
        if isinstance(text, str) and set(placeholder.findall(text)) != set(placeholder.findall(msgid)):
            broken.append(msgid)
    assert not broken, broken
