"""Mail templates: Jinja2 (HTML autoescaped, plain text not), texts through gettext so German and
English come from the same templates (``notifications.po``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from parley import i18n


@functools.cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("parley.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, locale: str, subject: str, params: dict[str, Any]) -> Rendered:
    """Render ``template``.txt and .html in ``locale``; ``subject`` is an English msgid."""

    def _(msgid: str, **kw: Any) -> str:
        return i18n.gettext(locale, msgid, kw)

    env = environment()
    context = {**params, "_": _, "locale": locale}
    return Rendered(
        subject=i18n.gettext(locale, subject, params),
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )


def build_message(
    rendered: Rendered, *, sender: str, to: str, unsubscribe_url: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST to the URL; the signed link needs no login
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg
