"""The widget on hostile or unusual host pages: strict CSP, hostile CSS, script payloads in
comments and names, other languages, keyboard-only use, dark mode, and no cookies."""

from __future__ import annotations

import re

import pytest
from browserkit import LiveServer, comment, open_widget, strict_csp, unique, watch_csp
from playwright.sync_api import BrowserContext, Page, expect

ACTIVE = """() => { let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a; }"""


def test_english_from_the_page_language_and_from_the_attribute(server: LiveServer, page: Page) -> None:
    key = unique("english-")
    name, token = server.register()
    first = server.post(key, "First comment", token)
    server.post(key, "A reply", token, parent_id=first["id"])
    open_widget(page, server.host.article(key, lang="en"))
    expect(page.locator("#parley-comments h2")).to_have_text("2 comments")
    expect(page.get_by_label("Sort by")).to_have_value("best")
    expect(comment(page, "First comment").locator(".by").first).to_contain_text(f"{name} says:")
    expect(comment(page, "First comment").locator("time").first).to_have_text(re.compile("now|ago"))
    expect(page.get_by_role("button", name="Reply")).to_have_count(2)
    expect(page.get_by_label("Your comment")).to_be_visible()

    open_widget(page, server.host.article(key, lang="de", attrs={"data-parley-lang": "en"}, path="/attr-en"))
    expect(page.locator("#parley-comments h2")).to_have_text("2 comments")
    open_widget(page, server.host.article(key, lang="de", path="/plain-de"))
    expect(page.locator("#parley-comments h2")).to_have_text("2 Kommentare")
    expect(comment(page, "First comment").locator("time").first).to_have_text(re.compile("jetzt|vor"))


def test_strict_csp_host_on_another_origin(server: LiveServer, page: Page) -> None:
    csp = strict_csp(server.url)
    watch_csp(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    key = unique("csp-")
    _, token = server.register()
    server.post(key, "Gelesen unter strenger CSP", token)
    open_widget(page, server.host.article(key, csp=csp))
    expect(comment(page, "Gelesen unter strenger CSP")).to_be_visible()
    send = page.get_by_role("button", name="Senden")
    assert send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 85, 200)"  # styled
    page.get_by_label("Ihr Kommentar").fill("Geschrieben unter strenger CSP")
    page.get_by_label("Name", exact=True).fill(unique("Strenge "))
    send.click()
    expect(comment(page, "Geschrieben unter strenger CSP")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    assert errors == []


HOSTILE_CSS = """<style>
* { color: red !important; font: 40px/3 "Comic Sans MS", cursive !important; background: yellow !important;
    letter-spacing: 6px !important; text-transform: uppercase !important; border: 3px dashed red !important;
    margin: 20px !important; visibility: visible !important; }
button, input, textarea, select, li, ol, p, div, section, article, h2, h3, form, span, a {
  display: none !important; }
.c, .pw, .b, .n, .acts, .list { display: none !important; opacity: 0 !important; }
#parley-comments { display: block !important; }
</style>"""


def test_hostile_host_css_neither_breaks_the_widget_nor_is_broken_by_it(
    server: LiveServer, page: Page
) -> None:
    key = unique("css-")
    _, token = server.register()
    server.post(key, "Trotz feindlichem CSS lesbar", token)
    marker = '<p class="c b pw" id="host-own">Der Host hat auch ein .c</p>'
    open_widget(page, server.host.article(key, head=HOSTILE_CSS, before=marker))
    body = comment(page, "Trotz feindlichem CSS lesbar").locator(".b")
    expect(body).to_be_visible()
    style = body.evaluate(
        "b => { const s = getComputedStyle(b);"
        " return [s.color, s.fontSize, s.textTransform, s.letterSpacing]; }"
    )
    assert style == ["rgb(27, 27, 27)", "16px", "none", "normal"]
    expect(page.get_by_role("button", name="Senden")).to_be_visible()
    # and the widget's own rules (.c, .b, .pw) never reach the host's elements
    host_own = page.evaluate("getComputedStyle(document.getElementById('host-own')).borderTopStyle")
    assert host_own == "dashed"
    page.get_by_label("Ihr Kommentar").fill("Auch schreiben geht")
    page.get_by_label("Name", exact=True).fill(unique("Tapfere "))
    page.get_by_role("button", name="Senden").click()
    expect(comment(page, "Auch schreiben geht")).to_be_visible()


def test_script_payloads_in_bodies_and_names_render_as_text(server: LiveServer, page: Page) -> None:
    key = unique("xss-")
    page.add_init_script(
        "window.__pwned = 0; window.__alerts = []; window.alert = m => window.__alerts.push(String(m));"
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil_name = "<img src=x onerror=alert(4)>"
    evil_body = (
        '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2;alert(1)"> '
        '[klick](javascript:alert(2)) <svg onload=alert(3)> <a href="javascript:alert(5)">a</a>'
    )
    server.api("POST", f"/threads/{key}/comments", json={"body": evil_body, "author_name": evil_name})
    open_widget(page, server.host.article(key))
    item = page.locator("li.c").first
    expect(item.locator(".n")).to_have_text(evil_name)
    expect(item.locator(".b")).to_contain_text("<script>window.__pwned=1</script>")
    expect(item.locator(".b img, .b script, .b svg")).to_have_count(0)
    assert item.locator(".b a").evaluate_all("as => as.map(a => a.getAttribute('href'))") in ([], [None])
    # the same payloads typed into the widget by a reader
    page.get_by_label("Ihr Kommentar").fill(evil_body)
    page.get_by_label("Name", exact=True).fill("<b onmouseover=alert(6)>Mallory</b>")
    page.get_by_role("button", name="Senden").click()
    expect(page.locator("li.c")).to_have_count(2)
    page.locator("li.c .n").first.hover()
    page.wait_for_timeout(200)
    assert page.evaluate("[window.__pwned, window.__alerts]") == [0, []]
    assert dialogs == []


def test_no_cookie_and_no_storage_before_the_reader_posts(
    server: LiveServer, page: Page, context: BrowserContext
) -> None:
    key = unique("privat-")
    open_widget(page, server.host.article(key))
    expect(page.locator("#parley-comments h2")).to_have_text("0 Kommentare")
    stored = "Object.keys(localStorage).filter(k => k.startsWith('parley:')).length"
    assert context.cookies() == []
    assert page.evaluate(stored) == 0
    page.get_by_label("Ihr Kommentar").fill("Erst jetzt ein Token")
    page.get_by_label("Name", exact=True).fill(unique("Sparsame "))
    page.get_by_role("button", name="Senden").click()
    expect(comment(page, "Erst jetzt ein Token")).to_be_visible()
    assert page.evaluate(stored) == 1
    assert context.cookies() == []


def test_keyboard_only_posting(server: LiveServer, page: Page) -> None:
    key = unique("tastatur-")
    open_widget(page, server.host.article(key))
    expect(page.locator("#parley-comments h2")).to_have_text("0 Kommentare")
    page.evaluate("window.scrollTo(0, 0)")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(f"({ACTIVE})().tagName") == "TEXTAREA":
            break
    else:
        raise AssertionError("Tab never reached the comment box")
    page.keyboard.type("Nur mit der Tastatur geschrieben")
    page.keyboard.press("Tab")
    assert page.evaluate(f"({ACTIVE})().name") == "author_name"
    page.keyboard.type(unique("Tastatur "))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        f"(() => {{ const a = ({ACTIVE})(); return [a.textContent, getComputedStyle(a).outlineStyle]; }})()"
    )
    assert focused[0] == "Senden"
    assert focused[1] != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    posted = comment(page, "Nur mit der Tastatur geschrieben")
    expect(posted).to_be_focused()
    expect(page.locator("[role=status][aria-live=polite]").last).to_have_text(
        "Ihr Kommentar ist veröffentlicht."
    )


def test_dark_theme_by_attribute(server: LiveServer, page: Page) -> None:
    open_widget(page, server.host.article(unique("dunkel-"), attrs={"data-parley-theme": "dark"}))
    bg = page.locator("section.pw").evaluate("s => getComputedStyle(s).backgroundColor")
    assert bg == "rgb(23, 23, 23)"


CONTRAST = """root => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = el => {
    for (let n = el; n; n = n.parentElement || (n.getRootNode() && n.getRootNode().host)) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  const wanted = ['h2', 'label', '.n', '.b', '.t', '.mu', '.bg', '.acts button', '.pri', '.who button',
                  '.cta p'];
  for (const sel of wanted) {
    const el = root.querySelector(sel);
    if (!el) { out.push([sel, 0]); continue; }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    out.push([sel, Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100]);
  }
  return out;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(server: LiveServer, page: Page, theme: str) -> None:
    key = unique("kontrast-")
    _, token = server.register()
    server.post(key, "Gut lesbar", token)
    server.api("POST", f"/threads/{key}/comments", json={"body": "Als Gast", "author_name": unique("Gast ")})
    open_widget(page, server.host.article(key, attrs={"data-parley-theme": theme}))
    expect(comment(page, "Gut lesbar")).to_be_visible()
    ratios = page.locator("#parley-comments").evaluate(f"host => ({CONTRAST})(host.shadowRoot)")
    too_low = [(sel, ratio) for sel, ratio in ratios if ratio < 4.5]
    assert too_low == [], ratios


def test_several_widgets_and_the_js_api_for_single_page_sites(server: LiveServer, page: Page) -> None:
    a, b, c = unique("eins-"), unique("zwei-"), unique("spa-")
    _, token = server.register()
    for key in (a, b, c):
        server.post(key, f"Kommentar in {key}", token)
    url = server.host.add(
        "/" + unique("several-"),
        f'<!doctype html><html lang="de"><head><script src="{server.url}/embed.js" async></script></head>'
        "<body>"
        f'<div data-parley data-parley-thread="{a}" data-parley-site="demo"></div>'
        f'<div data-parley data-parley-thread="{b}" data-parley-site="demo" data-parley-lang="en"></div>'
        '<div id="later"></div></body></html>',
    )
    page.goto(url)
    expect(page.locator("[data-parley] h2")).to_have_text(["1 Kommentar", "1 comment"])
    expect(page.get_by_text(f"Kommentar in {a}")).to_be_visible()
    expect(page.get_by_text(f"Kommentar in {b}")).to_be_visible()
    page.evaluate(
        "key => Parley.mount(document.getElementById('later'), {thread: key, site: 'demo', lazy: 'false'})", c
    )
    expect(page.locator("#later h2")).to_have_text("1 Kommentar")
    expect(page.get_by_text(f"Kommentar in {c}")).to_be_visible()
    assert page.evaluate("typeof Parley.version") == "string"


def test_an_erased_authors_comment_reads_deleted_account(server: LiveServer, page: Page) -> None:
    key = unique("erased-")
    _, token = server.register()
    server.post(key, "Ein Kommentar, dessen Konto gleich gelöscht wird", token)
    server.api("DELETE", "/me", token=token)  # the site keeps comments anonymised (default)
    open_widget(page, server.host.article(key))
    item = comment(page, "dessen Konto gleich gelöscht wird")
    expect(item.locator(".by .n").first).to_have_text("Gelöschtes Konto")
    expect(item.locator(".by")).not_to_contain_text("Gast")
