"""Writing with the widget on a publisher's page (another origin): guests and accounts post, reply,
edit, delete, vote and report; long threads page with "load more" and "show N more replies"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from browserkit import LiveServer, comment, open_widget, unique
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from parley.comments.models import Report, Thread, ThreadStatus
from parley.comments.threads import do_set_thread_status


def heading(page: Page) -> object:
    return page.locator("#parley-comments h2")


def item(page: Page, text: str) -> object:
    """A stable locator for the comment that now contains ``text`` (by its id)."""
    li = comment(page, text)
    expect(li).to_be_visible()
    return page.locator("#" + str(li.get_attribute("id")))


def test_guest_posts_replies_edits_and_deletes(
    server: LiveServer, page: Page, context: BrowserContext
) -> None:
    key = unique("gast-")
    name = unique("Gastleserin ")
    open_widget(page, server.host.article(key))
    expect(heading(page)).to_have_text("0 Kommentare")
    expect(page.get_by_text("Noch keine Kommentare")).to_be_visible()

    page.get_by_label("Ihr Kommentar").fill(
        "Erster Kommentar als Gast, siehe [Quelle](https://example.org/q)"
    )
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Senden").click()
    first = item(page, "Erster Kommentar als Gast")
    expect(first.locator(".b a")).to_have_attribute("href", "https://example.org/q")
    expect(first.locator(".by").first).to_contain_text(f"{name}Gast sagt:")
    expect(heading(page)).to_have_text("1 Kommentar")
    expect(page.locator(".who")).to_contain_text(f"Angemeldet als {name}")
    assert context.cookies() == []  # the widget never takes a cookie: it holds a bearer token

    first.get_by_role("button", name="Antworten").click()
    page.get_by_label(f"Ihre Antwort an {name}").fill("Eine Antwort darauf")
    first.get_by_role("button", name="Senden").click()
    reply = item(page, "Eine Antwort darauf")
    expect(first.locator("ol.kids > li.c")).to_have_count(1)
    expect(heading(page)).to_have_text("2 Kommentare")

    reply.get_by_role("button", name="Bearbeiten").click()
    box = reply.get_by_role("textbox")
    expect(box).to_have_value("Eine Antwort darauf")
    box.fill("Eine *geänderte* Antwort")
    reply.get_by_role("button", name="Speichern").click()
    expect(reply.locator(".b")).to_have_text("Eine geänderte Antwort")
    expect(reply.locator(".b em")).to_have_text("geänderte")
    expect(reply.locator(".by")).to_contain_text("bearbeitet")

    delete = reply.get_by_role("button", name="Löschen")
    delete.click()
    expect(delete).to_have_text("Wirklich löschen?")
    delete.click()
    expect(reply).to_have_count(0)
    expect(heading(page)).to_have_text("1 Kommentar")

    # after a reload the author still may edit: the server says which comments are theirs, and the
    # edit starts from the Markdown as written (the link's address is not lost)
    page.reload()
    open_widget(page, server.host.article(key))
    again = item(page, "Erster Kommentar als Gast")
    again.get_by_role("button", name="Bearbeiten").click()
    expect(again.get_by_role("textbox")).to_have_value(
        "Erster Kommentar als Gast, siehe [Quelle](https://example.org/q)"
    )


def test_register_then_vote_up_down_and_change(server: LiveServer, page: Page) -> None:
    key = unique("votes-")
    _, token = server.register()
    server.post(key, "Bitte darüber abstimmen", token)
    open_widget(page, server.host.article(key))
    target = item(page, "Bitte darüber abstimmen")
    target.get_by_role("button", name="Zustimmen (0)").click()
    expect(target.get_by_text("Bitte melden Sie sich an")).to_be_visible()

    name = unique("Neue Leserin ")
    page.locator(".who").get_by_role("button", name="Registrieren").click()
    form = page.locator("form", has=page.get_by_label("Passwort"))
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-Mail").fill(f"{name.replace(' ', '.').lower()}@example.org")
    form.get_by_label("Passwort").fill("ein sicheres passwort 123")
    form.get_by_role("button", name="Registrieren").click()
    expect(page.locator(".who")).to_contain_text(f"Angemeldet als {name}")

    target = item(page, "Bitte darüber abstimmen")
    up = target.get_by_role("button", name=re.compile("^Zustimmen"))
    down = target.get_by_role("button", name=re.compile("^Ablehnen"))
    up.click()
    expect(up).to_have_text("▲ 1")
    expect(up).to_have_attribute("aria-pressed", "true")
    down.click()
    expect(up).to_have_text("▲ 0")
    expect(down).to_have_text("▼ 1")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    down.click()  # again: takes the vote back
    expect(down).to_have_text("▼ 0")
    up.click()
    expect(up).to_have_text("▲ 1")
    page.reload()  # the vote and the login survive a reload
    open_widget(page, server.host.article(key))
    up = item(page, "Bitte darüber abstimmen").get_by_role("button", name=re.compile("^Zustimmen"))
    expect(up).to_have_attribute("aria-pressed", "true")


def test_login_post_and_logout(server: LiveServer, page: Page) -> None:
    key = unique("login-")
    name, _ = server.register(password=True)
    open_widget(page, server.host.article(key))
    page.locator(".who").get_by_role("button", name="Anmelden").click()
    page.get_by_label("E-Mail", exact=True).fill(f"{name.replace(' ', '.').lower()}@example.org")
    page.get_by_label("Passwort").fill("wrong password")
    page.locator("form").get_by_role("button", name="Anmelden").click()
    expect(page.locator("form [role=alert]").first).not_to_be_empty()
    page.get_by_label("Passwort").fill("correct horse battery staple")
    page.locator("form").get_by_role("button", name="Anmelden").click()
    expect(page.locator(".who")).to_contain_text(f"Angemeldet als {name}")
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)  # no guest fields for members
    page.get_by_label("Ihr Kommentar").fill("Angemeldet geschrieben")
    page.get_by_role("button", name="Senden").click()
    mine = item(page, "Angemeldet geschrieben")
    expect(mine.locator(".n")).to_have_text(name)
    expect(mine.locator(".bg")).to_have_count(0)  # not a guest
    page.locator(".who").get_by_role("button", name=f"Angemeldet als {name}").click()  # the account panel
    page.get_by_role("button", name="Abmelden").click()
    expect(page.locator(".who").get_by_role("button", name="Anmelden")).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('parley:'))") == []


def test_members_only_site_asks_to_log_in(server: LiveServer, page: Page) -> None:
    open_widget(page, server.host.article(unique("members-"), attrs={"data-parley-site": "members"}))
    expect(page.get_by_text("Bitte melden Sie sich an, um zu kommentieren.")).to_be_visible()
    expect(page.get_by_label("Ihr Kommentar")).to_have_count(0)


def test_load_more_more_replies_and_deep_link(server: LiveServer, page: Page) -> None:
    key = unique("lang-")
    ids = server.seed(key, "Kommentar Nummer {i}", 23)
    (parent,) = server.seed(key, "Ein Kommentar mit vielen Antworten", 1)
    server.seed(key, "Antwort Nummer {i}", 7, parent_id=parent)
    open_widget(page, server.host.article(key, attrs={"data-parley-sort": "newest"}))
    expect(page.locator("ol.list > li.c")).to_have_count(20)
    expect(heading(page)).to_have_text("31 Kommentare")
    host = item(page, "Ein Kommentar mit vielen Antworten")
    expect(host.locator("ol.kids > li.c")).to_have_count(5)
    host.get_by_role("button", name="2 weitere Antworten anzeigen").click()
    expect(host.locator("ol.kids > li.c")).to_have_count(7)
    expect(host.get_by_role("button", name=re.compile("weitere Antworten"))).to_have_count(0)
    page.get_by_role("button", name="Weitere Kommentare laden").click()
    expect(page.locator("ol.list > li.c")).to_have_count(24)
    expect(page.get_by_role("button", name="Weitere Kommentare laden")).to_be_hidden()

    # a deep link to a comment that is not on the first page: fetched, shown and focused
    page.goto(server.host.article(key, attrs={"data-parley-sort": "newest"}) + f"#comment-{ids[0]}")
    linked = page.locator(f"#comment-{ids[0]}")
    expect(linked).to_be_focused()
    expect(linked.locator(".b")).to_have_text("Kommentar Nummer 0")


def test_deep_replies_continue_flat_with_the_name_they_answer(server: LiveServer, page: Page) -> None:
    key = unique("tief-")
    names_tokens = [server.register(unique("Stimme ")) for _ in range(2)]
    parent = server.post(key, "Ebene null", names_tokens[0][1])
    for depth in range(1, 6):
        _, token = names_tokens[depth % 2]
        parent = server.post(key, f"Ebene {depth}", token, parent_id=parent["id"])
    open_widget(page, server.host.article(key))
    level4 = item(page, "Ebene 4")
    level5 = item(page, "Ebene 5")
    # depth 5 is past the site's reply_depth (4): a sibling of its parent, not nested deeper
    assert level5.evaluate("(li, p) => li.parentNode === p.parentNode", level4.element_handle())
    expect(level5.locator(".at")).to_have_text("@" + names_tokens[0][0])
    expect(page.locator("ol.kids ol.kids ol.kids ol.kids")).to_have_count(1)


def test_report_with_reason_explanation_and_good_faith(server: LiveServer, page: Page) -> None:
    key = unique("melden-")
    _, token = server.register()
    target_id = server.post(key, "Ein Kommentar zum Melden", token)["id"]
    open_widget(page, server.host.article(key))
    target = item(page, "Ein Kommentar zum Melden")
    target.get_by_role("button", name="Melden").click()
    reason = target.get_by_label("Was ist das Problem?")
    expect(reason).to_be_focused()
    reason.select_option("illegal")
    expect(target.get_by_role("checkbox")).to_have_attribute("required", "")
    reason.select_option("insult")
    target.get_by_label("Erläuterung").fill("Das ist eine Beleidigung einer Person.")
    target.get_by_label("Ihre E-Mail für die Rückmeldung (optional)").fill("melder@example.org")
    target.get_by_role("checkbox").check()
    target.get_by_role("button", name="Meldung senden").click()
    expect(target.get_by_role("status").filter(has_text="Danke")).to_be_visible()
    with server.app.state.registry.db.read() as s:
        report = s.scalars(select(Report).where(Report.comment_id == target_id)).one()
        assert (report.reason, report.good_faith) == ("insult", True)


def test_sort_switch_starts_over_and_closed_threads_take_no_comments(server: LiveServer, page: Page) -> None:
    key = unique("zu-")
    server.seed(key, "Beitrag {i}", 22)
    url = server.host.article(key, attrs={"data-parley-sort": "oldest"})
    open_widget(page, url)
    expect(page.locator("ol.list > li.c")).to_have_count(20)
    page.get_by_label("Sortieren").select_option("newest")  # a new sort starts from the top
    expect(page.locator("ol.list > li.c").first.locator(".b")).to_have_text("Beitrag 21")
    expect(page.locator("ol.list > li.c")).to_have_count(20)

    with server.app.state.registry.db.write() as s:
        thread = s.scalars(select(Thread).where(Thread.key == key)).one()
        do_set_thread_status(s, thread, ThreadStatus.CLOSED, datetime.now(UTC))
    page.reload()
    open_widget(page, url)
    expect(page.get_by_text("Die Kommentare zu diesem Artikel sind geschlossen.")).to_be_visible()
    expect(page.get_by_label("Ihr Kommentar")).to_have_count(0)
    expect(page.get_by_role("button", name="Antworten")).to_have_count(0)
