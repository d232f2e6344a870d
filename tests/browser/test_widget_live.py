"""Moderation as the author sees it, live updates over SSE, and publisher SSO."""

from __future__ import annotations

import re

from browserkit import LiveServer, comment, new_context, open_widget, unique
from playwright.sync_api import Browser, Page, expect


def test_author_sees_their_held_comment_and_why_others_do_not(server: LiveServer, browser: Browser) -> None:
    key = unique("geprueft-")
    url = server.host.article(key, attrs={"data-parley-site": "strict"})
    author_ctx, reader_ctx = new_context(browser), new_context(browser)
    try:
        author = author_ctx.new_page()
        open_widget(author, url)
        author.get_by_label("Ihr Kommentar").fill("Dieser Kommentar wartet auf die Moderation")
        author.get_by_label("Name", exact=True).fill(unique("Geduldige "))
        author.get_by_role("button", name="Senden").click()
        mine = comment(author, "Dieser Kommentar wartet auf die Moderation")
        note = mine.locator(".note")
        expect(note).to_contain_text("Wartet auf Prüfung – nur für Sie sichtbar.")
        expect(note.locator("li")).not_to_have_count(0)  # the reason(s)
        # the reason, in the reader's language
        expect(note.locator("li").first).to_have_text(
            "Grund: Kommentare auf dieser Seite prüft die Moderation, bevor sie erscheinen."
        )
        link = note.get_by_role("link", name="Begründung und Widerspruch")
        expect(link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/statements/.+"))
        expect(author.locator("#parley-comments h2")).to_have_text("0 Kommentare")
        expect(mine.get_by_role("button", name=re.compile("^Zustimmen"))).to_have_count(0)

        reader = reader_ctx.new_page()
        open_widget(reader, url)
        expect(reader.locator("#parley-comments h2")).to_have_text("0 Kommentare")
        expect(reader.get_by_text("Noch keine Kommentare")).to_be_visible()
        expect(reader.get_by_text("wartet auf die Moderation")).to_have_count(0)

        author.reload()  # own_pending brings it back for its author, with the reasons
        open_widget(author, url)
        again = comment(author, "Dieser Kommentar wartet auf die Moderation")
        expect(again.locator(".note")).to_contain_text("Wartet auf Prüfung")
        expect(again.locator(".note li").first).to_contain_text("Grund: Kommentare auf dieser Seite")
        expect(again.locator(".note a")).to_have_attribute("href", re.compile("/statements/"))
    finally:
        author_ctx.close()
        reader_ctx.close()


def test_a_second_reader_gets_new_comments_and_votes_live(server: LiveServer, browser: Browser) -> None:
    key = unique("live-")
    _, token = server.register()
    seeded = server.post(key, "Schon vorher da", token)
    url = server.host.article(key)
    writer_ctx, watcher_ctx = new_context(browser), new_context(browser)
    try:
        watcher = watcher_ctx.new_page()
        open_widget(watcher, url)
        expect(comment(watcher, "Schon vorher da")).to_be_visible()
        writer = writer_ctx.new_page()
        open_widget(writer, url)
        writer.get_by_label("Ihr Kommentar").fill("Frisch geschrieben, live gesehen")
        writer.get_by_label("Name", exact=True).fill(unique("Schnelle "))
        writer.get_by_role("button", name="Senden").click()
        expect(comment(writer, "Frisch geschrieben, live gesehen")).to_be_visible()

        fresh = watcher.get_by_role("button", name="1 neuer Kommentar – anzeigen")
        expect(fresh).to_be_visible()
        expect(watcher.locator("#parley-comments h2")).to_have_text("2 Kommentare")
        expect(watcher.locator("[role=status][aria-live=polite]").last).to_have_text("1 neuer Kommentar")
        fresh.click()
        shown = comment(watcher, "Frisch geschrieben, live gesehen")
        expect(shown).to_be_focused()
        expect(fresh).to_be_hidden()

        # a vote moves the count on the other reader's screen
        _, voter = server.register()
        server.api("PUT", f"/comments/{seeded['id']}/vote", token=voter, json={"value": 1})
        up = comment(watcher, "Schon vorher da").get_by_role("button", name=re.compile("^Zustimmen"))
        expect(up).to_have_text("▲ 1")

        # a held comment is never announced
        server.site_settings("demo", {"moderation": {"premoderate_all": True}})
        try:
            server.post(key, "Gehalten und nicht angekündigt", token)
            server.post(key, "Dieser wird es", token, parent_id=seeded["id"])
        finally:
            server.site_settings("demo", {"moderation": {"premoderate_all": False}})
        server.post(key, "Nach der Sperre wieder frei", token)
        expect(watcher.get_by_role("button", name="1 neuer Kommentar – anzeigen")).to_be_visible()
        watcher.get_by_role("button", name="1 neuer Kommentar – anzeigen").click()
        expect(comment(watcher, "Nach der Sperre wieder frei")).to_be_visible()
        expect(watcher.get_by_text("Gehalten und nicht angekündigt")).to_have_count(0)
    finally:
        writer_ctx.close()
        watcher_ctx.close()


def test_publisher_sso_token_logs_the_reader_in(server: LiveServer, page: Page) -> None:
    key = unique("sso-")
    token = server.sso_token(unique("sub-"), "Abonnentin Anna")
    open_widget(page, server.host.article(key, attrs={"data-parley-site": "sso", "data-parley-sso": token}))
    expect(page.locator(".who")).to_contain_text("Angemeldet als Abonnentin Anna")
    page.get_by_label("Ihr Kommentar").fill("Über SSO angemeldet")
    page.get_by_role("button", name="Senden").click()
    expect(comment(page, "Über SSO angemeldet").locator(".n")).to_have_text("Abonnentin Anna")

    # the JS API for single-page sites: log out, and in as somebody else
    page.evaluate("Parley.logout()")
    expect(page.locator(".who").get_by_role("button", name="Anmelden")).to_be_visible()
    other = server.sso_token(unique("sub-"), "Abonnent Bernd")
    page.evaluate("token => Parley.login(token)", other)
    expect(page.locator(".who")).to_contain_text("Angemeldet als Abonnent Bernd")
