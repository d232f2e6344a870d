"""The mail seam: one contract, run against every transport (Null, and SMTP to a real server)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from parley.config import Settings
from parley.notifications.mail import MailTransport, NullTransport, SmtpTransport, build_transport
from parley.notifications.rendering import build_message, render
from support.smtp import Inbox, smtp_server


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


def message(to: str = "leserin@example.org") -> EmailMessage:
    rendered = render(
        "reply",
        "de",
        "New reply to your comment",
        {
            "recipient_name": "Leserin <b>",
            "author_name": "Max",
            "thread_title": "Haushalt",
            "link": "https://example.org/a#c",
            "unsubscribe_url": "https://example.org/u?a=1&s=x",
        },
    )
    return build_message(
        rendered, sender="Parley <parley@example.org>", to=to, unsubscribe_url="https://example.org/u?a=1&s=x"
    )


@pytest.fixture(params=["null", "smtp"])
def transport(request: pytest.FixtureRequest, smtp: tuple[Inbox, int]) -> MailTransport:
    if request.param == "null":
        return NullTransport()
    return SmtpTransport("127.0.0.1", smtp[1], tls="none", timeout=5)


def test_every_transport_accepts_a_well_formed_message(transport: MailTransport) -> None:
    transport.send(message())


def test_smtp_delivers_text_html_and_one_click_unsubscribe(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    SmtpTransport("127.0.0.1", port, tls="none").send(message("a@example.org"))
    got = inbox.to("a@example.org")[-1]
    assert got["Subject"] == "Neue Antwort auf Ihren Kommentar"
    assert got["List-Unsubscribe"] == "<https://example.org/u?a=1&s=x>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = got.get_body(("plain",))
    html = got.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Max hat auf Ihren Kommentar" in text.get_content()
    assert "Leserin <b>" in text.get_content()  # plain text is not escaped
    assert "Leserin &lt;b&gt;" in html.get_content()  # HTML is


def test_smtp_errors_surface_so_the_job_is_retried(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.fail_next = 1
    with pytest.raises(smtplib.SMTPDataError):
        SmtpTransport("127.0.0.1", port, tls="none").send(message())


def test_settings_choose_the_transport() -> None:
    assert isinstance(build_transport(Settings(mail_backend="null")), NullTransport)
    smtp = build_transport(
        Settings(mail_backend="smtp", smtp_host="mail.example", smtp_port=2525, smtp_tls="tls")
    )
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.tls) == ("mail.example", 2525, "tls")


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("template", ["reply", "decision", "appeal", "digest"])
def test_every_template_renders_in_both_languages(template: str, locale: str) -> None:
    params = {
        "recipient_name": "R",
        "author_name": "A",
        "thread_title": "T",
        "link": "https://example.org/",
        "status": "rejected",
        "reasons": ["Grund"],
        "statement_url": "https://example.org/s",
        "upheld": True,
        "reason": "weil",
        "site_name": "S",
        "held": 2,
        "reports": 1,
        "unsubscribe_url": "https://example.org/u",
    }
    out = render(template, locale, "Moderation digest", params)
    assert out.text.strip()
    assert out.html.strip()
    assert "{" not in out.text  # every placeholder filled
