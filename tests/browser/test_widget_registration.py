"""Signing up in the widget when the address must be confirmed (``registration_confirmation``,
security issue 9): the widget says to check the mailbox instead of logging in; the link in the mail
opens Parley's page, whose button creates the account; then the reader logs in on the article.

The module's server sends no mail by default (``mail_backend = "null"``: sign-ups are immediate), so
this test switches confirmation on and hands the job worker a transport that keeps the messages."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from browserkit import LiveServer, open_widget, unique, watch_csp
from playwright.sync_api import Page, expect

PASSWORD = "ein sicheres passwort 123"


class Outbox:
    """A mail transport (``parley.notifications.mail.MailTransport``) that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def wait_for(self, to: str, timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if m["To"] == to:
                    return m
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to} within {timeout} s")


@pytest.fixture
def outbox(server: LiveServer) -> Iterator[Outbox]:
    registry = server.app.state.registry
    settings, extras = registry.settings, registry.extras
    saved = (settings.mail_backend, settings.registration_confirmation, extras.get("mail_transport"))
    box = Outbox()
    settings.mail_backend, settings.registration_confirmation = "smtp", "required"
    extras["mail_transport"] = box
    try:
        yield box
    finally:
        settings.mail_backend, settings.registration_confirmation = saved[0], saved[1]
        if saved[2] is None:
            extras.pop("mail_transport", None)
        else:
            extras["mail_transport"] = saved[2]


def test_sign_up_waits_for_the_mailed_link(server: LiveServer, page: Page, outbox: Outbox) -> None:
    watch_csp(page)
    open_widget(page, server.host.article(unique("bestaetigen-")))
    name = unique("Neue Leserin ")
    email = f"{name.replace(' ', '.').lower()}@example.org"
    page.locator(".who").get_by_role("button", name="Registrieren").click()
    form = page.locator("form", has=page.get_by_label("Passwort"))
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-Mail").fill(email)
    form.get_by_label("Passwort").fill(PASSWORD)
    form.get_by_role("button", name="Registrieren").click()

    sent = page.locator("#parley-comments").get_by_role("status").filter(has_text=email)
    expect(sent).to_have_text(
        f"Fast geschafft: Wir haben einen Link an {email} geschickt. Öffnen Sie ihn, um Ihre "
        "Registrierung zu bestätigen, und melden Sie sich dann hier an."
    )
    expect(sent).to_be_focused()
    expect(page.locator(".who")).not_to_contain_text("Angemeldet als")

    # the link in the mail: a page with a button (opening it alone creates nothing)
    text = outbox.wait_for(email).get_body(("plain",))
    assert text is not None
    found = re.search(r"http://\S+/account/confirm\?token=\S+", str(text.get_content()))
    assert found
    page.goto(found.group(0))
    page.get_by_role("button", name="Mein Konto anlegen").click()
    expect(page.get_by_text("Ihr Konto ist bestätigt.")).to_be_visible()
    assert page.evaluate("window.__csp") == []  # the page works under its strict CSP

    # back on the article, the new account logs in
    open_widget(page, server.host.article(unique("zurueck-")))
    page.locator(".who").get_by_role("button", name="Anmelden").click()
    login = page.locator("form", has=page.get_by_label("Passwort"))
    login.get_by_label("E-Mail").fill(email)
    login.get_by_label("Passwort").fill(PASSWORD)
    login.get_by_role("button", name="Anmelden").click()
    expect(page.locator(".who")).to_contain_text(f"Angemeldet als {name}")
