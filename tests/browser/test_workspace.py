"""The moderation workspace in real Chromium: sign in, clear a queue with the keyboard, reject with a
reason, act on a copy wave — and the author finds the statement of reasons from the widget.

Also takes screenshots of the main views (people look at them; the test checks that the pages
render without a CSP violation): into ``test-artifacts/workspace/``, or into ``docs/screenshots/``
with ``UPDATE_SCREENSHOTS=1`` (so an ordinary run does not rewrite the documentation's pictures).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from browserkit import PASSWORD, LiveServer, comment, new_context, open_widget, unique
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from parley.accounts.models import Role
from parley.accounts.services import do_create_account
from parley.clock import SystemClock
from parley.comments.models import Comment, Thread
from parley.sites.models import Site, SiteRole

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts/workspace")
COPY2 = (
    "Wer jetzt noch glaubt, dass die Bahn bis zum Winter pünktlich fährt, hat die letzten zehn Jahre "
    "wohl verschlafen und liest keine Zeitung mehr."
)
COPY = (
    "Die Regierung muss endlich handeln, denn die Preise steigen jeden Monat weiter und niemand in "
    "Berlin scheint das ernst zu nehmen."
)


def _moderator(server: LiveServer) -> str:
    """A moderator of the demo site (a site role, not a global one); returns the e-mail."""
    email = f"{unique('mod')}@example.org"
    with server.app.state.registry.db.write() as s:
        account = do_create_account(
            s,
            name=unique("Moderatorin "),
            email=email,
            password=PASSWORD,
            role=Role.COMMENTER,
            now=SystemClock().now(),
        )
        site = s.scalar(select(Site).where(Site.slug == "demo"))
        assert site is not None
        s.add(SiteRole(site_id=site.id, account_id=account.id, role="admin", created_at=SystemClock().now()))
    return email


def _sign_in(server: LiveServer, ctx: BrowserContext, email: str, next_path: str = "/moderate") -> Page:
    page = ctx.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.url}/moderate/login?next={next_path}")
    page.get_by_label("E-Mail").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/moderate/"))
    page.csp_violations = violations  # type: ignore[attr-defined]
    return page


def _status(server: LiveServer, comment_id: int) -> str:
    with server.app.state.registry.db.read() as s:
        c = s.get(Comment, comment_id)
        assert c is not None
        return c.status


def _thread_id(server: LiveServer, key: str) -> int:
    with server.app.state.registry.db.read() as s:
        found = s.scalar(select(Thread.id).where(Thread.key == key))
        assert found is not None
        return int(found)


@pytest.fixture(scope="module")
def scene(server: LiveServer) -> dict[str, Any]:
    """A story with held comments (a suspect term, written evasively) and a copy wave."""
    server.site_settings("demo", {"moderation": {"terms": {"suspect": ["trottel"]}}})
    key = unique("workspace-")
    _, token = server.register(unique("Stammleserin "))
    held = [server.post(key, f"Wer das glaubt, ist ein T r o t t e l – Nummer {i}.", token) for i in (2, 3)]
    original = server.post(key, COPY, token)
    # three other accounts post near-copies: the copy-spam phase holds them as one wave
    copies = [
        server.post(key, text, server.register(unique("Kopistin "))[1])
        for text in (COPY + " Teilen!", "Genau: " + COPY, COPY.replace("Preise", "Mieten"))
    ]
    assert [c["status"] for c in copies] == ["held"] * 3
    return {
        "key": key,
        "held": [c["id"] for c in held],
        "original": original["id"],
        "copies": [c["id"] for c in copies],
    }


def test_moderator_clears_a_queue_by_keyboard_and_the_author_sees_why(
    server: LiveServer, browser: Browser, scene: dict[str, Any]
) -> None:
    key = scene["key"]
    author_ctx, mod_ctx = new_context(browser), new_context(browser)
    try:
        # the author writes as a guest in the widget on the publisher's page
        author = author_ctx.new_page()
        url = server.host.article(key)
        open_widget(author, url)
        author.get_by_label("Ihr Kommentar").fill("Der Minister ist ein Tr0ttel, sage ich.")
        author.get_by_label("Name", exact=True).fill(unique("Meinungsstarke "))
        author.get_by_role("button", name="Senden").click()
        expect(comment(author, "Der Minister ist ein").locator(".note")).to_contain_text("Wartet auf Prüfung")

        page = _sign_in(server, mod_ctx, _moderator(server))
        thread = _thread_id(server, key)
        page.goto(f"{server.url}/moderate/queue/held?story={thread}&reason=suspect_term")
        cards = page.locator(".cards > article.card")
        expect(cards).to_have_count(3)
        expect(cards.first.locator("mark")).to_have_text("T r o t t e l")  # the term as written
        ids = [int(str(cards.nth(i).get_attribute("data-id"))) for i in range(3)]
        authors_id = next(i for i in ids if i not in scene["held"])

        # j moves to the first card; r opens the reasons; a reason and Enter reject it
        order = ids
        page.keyboard.press("j")
        expect(cards.first).to_be_focused()
        for cid in order:
            card = page.locator(f"#c-{cid}")
            expect(card).to_be_focused()
            if cid == authors_id:
                page.keyboard.press("r")
                select = card.locator("select[name=reason_code]")
                expect(select).to_be_focused()
                select.select_option("insult")
                page.keyboard.press("Enter")
            else:
                page.keyboard.press("a")
            expect(page.locator(f"#c-{cid}.done")).to_be_visible()
        assert _status(server, authors_id) == "rejected"
        assert {_status(server, i) for i in scene["held"]} == {"published"}
        page.reload()
        expect(page.get_by_text("Hier wartet nichts. Gut gemacht.")).to_be_visible()

        # the copy wave, in one step
        page.goto(f"{server.url}/moderate/queue/waves")
        wave = page.locator(f"#w-{scene['original']}")
        expect(wave.locator("h2")).to_contain_text("3 zurückgehaltene Kopien")
        wave.get_by_role("button", name="Alle 3 ablehnen").click()
        expect(page.get_by_text("Keine Kopierwellen offen.")).to_be_visible()
        assert {_status(server, i) for i in scene["copies"]} == {"rejected"}
        assert _status(server, scene["original"]) == "published"
        assert page.csp_violations == []  # type: ignore[attr-defined]

        # the author: the widget says why and links the statement of reasons
        author.reload()
        open_widget(author, url)
        note = comment(author, "Der Minister ist ein").locator(".note")
        expect(note).to_contain_text("Nicht veröffentlicht")
        link = note.get_by_role("link", name="Begründung und Widerspruch")
        href = str(link.get_attribute("href"))
        author.goto(href)
        expect(author.locator("h1")).to_have_text("Begründung der Entscheidung")
        expect(author.locator(".decision")).to_contain_text("wurde entfernt")
        expect(author.locator("ul.reasons")).to_contain_text("Beleidigung oder persönlicher Angriff")
        expect(author.locator("ul.reasons")).to_contain_text("geschrieben als „Tr0ttel“")
        SHOTS.mkdir(parents=True, exist_ok=True)
        author.screenshot(path=str(SHOTS / "statement.png"), full_page=True)
    finally:
        author_ctx.close()
        mod_ctx.close()


def test_screenshots_of_the_main_views(server: LiveServer, browser: Browser, scene: dict[str, Any]) -> None:
    """Screenshots for docs/screenshots (looked at by people), each page without a CSP violation."""
    # something to show: a fresh story with held comments, a wave and a reader report
    key = unique("bilder-")
    _, token = server.register(unique("Leser "))
    server.post(key, "Diese T r o t t e l in der Regierung! Und die Presse schreibt alles ab.", token)
    server.post(key, "Ich finde den Artikel gut recherchiert, danke.", token)
    original = server.post(key, COPY2, server.register(unique("Erstautorin "))[1])
    copy_texts = (COPY2 + " Teilen!", "Genau: " + COPY2, COPY2.replace("Bahn", "S-Bahn"))
    copies = [server.post(key, text, server.register(unique("Kopist "))[1])["id"] for text in copy_texts]
    assert original["status"] == "published"
    ctx = new_context(browser, viewport={"width": 1280, "height": 860})
    try:
        page = _sign_in(server, ctx, _moderator(server))
        SHOTS.mkdir(parents=True, exist_ok=True)
        shots = [
            ("queue-held", "/moderate/queue/held", None),
            ("queue-waves", "/moderate/queue/waves", None),
            ("comment-card", f"/moderate/comments/{copies[2]}", None),
            ("stories", "/moderate/stories", None),
            ("settings", "/moderate/settings", "try"),
            ("health", "/moderate/health", None),
            ("workload", "/moderate/workload", None),
            ("transparency", "/moderate/transparency", None),
            ("audit", "/moderate/audit", None),
        ]
        for name, path, action in shots:
            page.goto(server.url + path)
            expect(page.locator("main")).to_be_visible()
            if action == "try":
                page.get_by_label("Kommentartext").fill("Ihr seid alle T-r-o-t-t-e-l!")
                page.get_by_role("button", name="Prüfen").click()
                expect(page.locator("#try-result .verdict")).to_be_visible()
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=name not in ("queue-held",))
        # the author drawer over the queue
        page.goto(server.url + "/moderate/queue/held")
        page.locator(".card a.author").first.click()
        expect(page.locator("#drawer .author-drawer")).to_be_visible()
        page.screenshot(path=str(SHOTS / "author-drawer.png"))
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        expect(page.locator("dialog#help")).to_be_visible()
        page.screenshot(path=str(SHOTS / "shortcuts.png"))
        assert page.csp_violations == []  # type: ignore[attr-defined]
        login = ctx.new_page()
        ctx.clear_cookies()
        login.goto(server.url + "/moderate/login")
        login.screenshot(path=str(SHOTS / "login.png"))
    finally:
        ctx.close()
