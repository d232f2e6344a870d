"""Server-rendered HTML of the workspace and the statement pages (Jinja2, autoescaped, translated).

Pages carry a strict Content-Security-Policy without ``'unsafe-inline'``: scripts and styles come
from ``/moderate/static`` only, htmx is configured through a ``<meta>`` tag (no injected indicator
styles, no eval), and the CSRF token travels in ``hx-headers`` on ``<body>``. Nobody may frame the
workspace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from parley import i18n

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
    }
)
STATIC = "/moderate/static"


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("parley.workspace", "templates"), PackageLoader("parley.statements", "templates")]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["STATIC"] = STATIC
    env.globals["HTMX_CONFIG"] = HTMX_CONFIG
    return env


class Translator:
    """``_("msgid", name=value)`` in templates, bound to one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __call__(self, msgid: str, **params: Any) -> str:
        return i18n.gettext(self.locale, msgid, params)

    def n(self, singular: str, plural: str, n: int, **params: Any) -> str:
        return i18n.ngettext(self.locale, singular, plural, n, params)

    def duration(self, seconds: float | None) -> str:
        """A time span for people: seconds, minutes, hours or days."""
        if seconds is None:
            return "–"
        for limit, unit, msgid in (
            (90, 1, "{n} s"),
            (90 * 60, 60, "{n} min"),
            (48 * 3600, 3600, "{n} h"),
        ):
            if seconds < limit:
                return i18n.gettext(self.locale, msgid, {"n": round(seconds / unit, 1 if unit > 1 else None)})
        return i18n.gettext(self.locale, "{n} days", {"n": round(seconds / 86400, 1)})

    def date(self, value: datetime | str | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return format_date(value, format="long", locale=self.locale)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return format_datetime(value, format="short", locale=self.locale)


def render(
    name: str,
    *,
    locale: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    t = Translator(locale)
    html = environment().get_template(name).render(_=t, t=t, locale=locale, **context)
    out = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    out.update(headers or {})
    return HTMLResponse(html, status_code=status_code, headers=out)
