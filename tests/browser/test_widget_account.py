"""The reader's own account in the widget: appealing a decision, a sanction shown to the person it
restricts (no shadow bans), notifications with their badge, the data download and deleting the
account. Accounts and their comments are made through the API and the services; the widget opens
with the reader's session already in its storage (``remember``), as after a login."""

from __future__ import annotations

import json
import re
from pathlib import Path

from browserkit import (
    ARTIFACTS,
    LiveServer,
    comment,
    new_context,
    open_widget,
    remember,
    strict_csp,
    unique,
    watch_csp,
)
from playwright.sync_api import Browser, Page, expect

from parley.accounts.models import Account
from parley.accounts.principal import from_account
from parley.accounts.services import do_create_account
from parley.clock import SystemClock
from parley.comments.models import Comment
from parley.workspace.access import Moderator
from parley.workspace.actions import do_resolve_reports
from parley.workspace.models import SanctionKind
from parley.workspace.sanctions import do_sanction


def test_author_appeals_a_held_comment_once(server: LiveServer, browser: Browser) -> None:
    key = unique("einspruch-")
    url = server.host.article(key, attrs={"data-parley-site": "strict"})
    name, token = server.register()
    server.post(key, "Ein Kommentar, der auf die Moderation wartet", token, site="strict")
    ctx = new_context(browser)
    remember(ctx, server, name, token)
    try:
        first, stale = ctx.new_page(), ctx.new_page()
        open_widget(first, url)
        open_widget(stale, url)  # a second tab, opened before the appeal
        note = comment(first, "auf die Moderation wartet").locator(".note")
        expect(note.get_by_role("link", name="Begründung und Widerspruch")).to_be_visible()
        note.get_by_role("button", name="Widerspruch einlegen").click()
        box = note.get_by_label(re.compile(r"^Warum ist die Entscheidung falsch\? \(Widerspruch bis .+\)$"))
        expect(box).to_be_focused()
        box.fill("Das ist ein sachlicher Beitrag zum Artikel.")
        note.get_by_role("button", name="Widerspruch einlegen").click()
        received = note.get_by_role("status")
        expect(received).to_have_text("Ihr Widerspruch ist eingegangen. Die Moderation entscheidet darüber.")
        expect(received).to_be_focused()

        # the other tab still offers the form; the server says it was appealed already
        other = comment(stale, "auf die Moderation wartet").locator(".note")
        other.get_by_role("button", name="Widerspruch einlegen").click()
        other.get_by_role("textbox").fill("Noch einmal")
        other.get_by_role("button", name="Widerspruch einlegen").click()
        expect(other.get_by_role("status")).to_contain_text("bereits widersprochen")

        # later loads show the appeal's state instead of the button
        open_widget(first, url)
        again = comment(first, "auf die Moderation wartet").locator(".note")
        expect(again).to_contain_text("Ihr Widerspruch ist eingegangen.")
        expect(again.get_by_role("button", name="Widerspruch einlegen")).to_have_count(0)
    finally:
        ctx.close()


def _suspend(server: LiveServer, name: str, days: int) -> None:
    now = SystemClock().now()
    with server.app.state.registry.db.write() as s:
        mod = do_create_account(s, name=unique("Moderatorin "), email=f"{unique('m')}@example.org", now=now)
        moderator = Moderator(
            principal=from_account(mod, "cookie"), account_id=mod.id, site_ids=None, admin_site_ids=None
        )
        author = s.query(Account).filter_by(display_name=name).one()
        do_sanction(
            s, moderator, author, SanctionKind.SUSPENSION, reason_code="insult", note=None, now=now, days=days
        )


def test_a_suspended_reader_sees_why_and_cannot_post(server: LiveServer, page: Page) -> None:
    key = unique("gesperrt-")
    name, token = server.register()
    server.post(key, "Written before the suspension", token)
    _suspend(server, name, days=3)
    remember(page, server, name, token)
    open_widget(page, server.host.article(key, lang="en"))
    note = page.locator("#parley-comments .note").first
    expect(note).to_contain_text(re.compile(r"Your account is suspended until .+\."))
    expect(note).to_contain_text("Reason: Insult or personal attack")
    link = note.get_by_role("link", name="Statement of reasons and appeal")
    expect(link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/statements/.+"))
    expect(note.get_by_role("button", name="Appeal")).to_be_visible()
    expect(page.get_by_label("Your comment")).to_have_count(0)  # no composer
    earlier = comment(page, "Written before the suspension")
    expect(earlier.get_by_role("button", name="Reply")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#parley-comments").screenshot(path=str(ARTIFACTS / "widget-suspended.png"))


def test_notification_badge_reply_mails_and_my_data(server: LiveServer, page: Page, tmp_path: Path) -> None:
    key = unique("antwort-")
    name, token = server.register()
    replier, other = server.register()
    mine = server.post(key, "Mein Kommentar, auf den jemand antwortet", token)
    reply = server.post(key, "Eine Antwort darauf", other, parent_id=mine["id"])
    report = {"reason": "insult", "detail": "Ist das eine Beleidigung?", "good_faith": True}
    server.api("POST", f"/comments/{reply['id']}/reports", token=token, json=report)
    with server.app.state.registry.db.write() as s:  # a moderator keeps the reply
        reported = s.get(Comment, reply["id"])
        assert reported is not None
        do_resolve_reports(s, reported, "kept", SystemClock().now())
    watch_csp(page)  # the panel and the download work under the publisher's strict CSP
    remember(page, server, name, token)
    open_widget(page, server.host.article(key, csp=strict_csp(server.url)))
    me = page.locator(".who [aria-expanded]")
    expect(me.locator(".nb")).to_have_text("2 ungelesen")
    me.focus()
    page.keyboard.press("Enter")  # the panel opens from the keyboard, focus moves into it
    expect(me).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#" + str(me.get_attribute("aria-controls")))
    expect(panel.get_by_role("heading", name="Benachrichtigungen")).to_be_focused()
    note = panel.get_by_role("link", name=f"{replier} hat auf Ihren Kommentar geantwortet.")
    expect(note).to_have_attribute("href", f"#comment-{reply['id']}")
    outcome = panel.get_by_role(
        "link", name=re.compile(r"gemeldeten Kommentar entschieden\. Er bleibt online\.$")
    )
    expect(outcome).to_have_attribute("href", f"#comment-{reply['id']}")
    expect(me.locator(".nb")).to_be_hidden()  # opened: marked read
    assert server.api("GET", "/me/notifications", token=token)["unread_count"] == 0

    panel.get_by_label("Bei Antworten auf meine Kommentare eine E-Mail senden").check()
    expect(page.locator("#parley-comments .pw > .sr")).to_have_text("Gespeichert.")
    assert server.api("GET", "/me/notification-settings", token=token)["reply_emails"] is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#parley-comments").screenshot(path=str(ARTIFACTS / "widget-account-panel.png"))

    with page.expect_download() as download:
        panel.get_by_role("button", name="Meine Daten herunterladen").click()
    assert download.value.suggested_filename == "parley-data.json"
    path = tmp_path / "data.json"
    download.value.save_as(path)
    data = json.loads(path.read_text())
    assert "Mein Kommentar, auf den jemand antwortet" in json.dumps(data, ensure_ascii=False)

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(me).to_be_focused()
    me.click()
    panel.get_by_role("link", name=re.compile("hat auf Ihren Kommentar geantwortet")).click()
    expect(comment(page, "Eine Antwort darauf")).to_be_focused()  # the deep link to the reply
    assert page.evaluate("window.__csp") == []


def test_delete_my_account_after_confirming(server: LiveServer, page: Page) -> None:
    key = unique("loeschen-")
    name, token = server.register()
    server.post(key, "Ein Kommentar vor dem Löschen", token)
    remember(page, server, name, token)
    open_widget(page, server.host.article(key))
    page.locator(".who [aria-expanded]").click()
    page.get_by_role("button", name="Konto löschen").click()
    warning = page.get_by_text(re.compile("^Ihr Konto wird gelöscht: .* nicht rückgängig machen\\.$"))
    expect(warning).to_be_focused()
    page.get_by_role("button", name="Abbrechen").click()  # the first step changes nothing
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Konto löschen")).to_be_focused()
    page.get_by_role("button", name="Konto löschen").click()
    page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(page.locator(".who").get_by_role("button", name="Anmelden")).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('parley:'))") == []
    gone = comment(page, "Ein Kommentar vor dem Löschen")
    expect(gone.locator(".by .n").first).to_have_text("Gelöschtes Konto")
