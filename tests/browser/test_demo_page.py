"""The demo article page at ``/``: the seed's six comments, as a publisher's page shows them."""

from __future__ import annotations

from browserkit import ARTIFACTS, LiveServer, dump_json, new_context, open_widget
from playwright.sync_api import Browser, Page, expect

SEED_NAMES = [
    "rudi1234",
    "Sektglas Grünling",
    "Definition",
    "Tante Joleschs Lover",
    "Gültig „gegen“ Grün",
    "Ukrainerin",
]


def top_level_names(page: Page) -> list[str]:
    return page.locator("ol.list > li.c > article .by .n").all_inner_texts()


def test_demo_page_shows_the_six_seed_comments(server: LiveServer, page: Page) -> None:
    open_widget(page, server.url + "/")
    items = page.locator("li.c")
    expect(items).to_have_count(6)
    for name in SEED_NAMES:
        expect(page.locator(".by .n", has_text=name)).to_have_count(1)
    expect(page.locator(".by").first).to_contain_text("sagt:")
    expect(page.locator("#parley-comments h2")).to_have_text("6 Kommentare")
    # replies nest under the comment they answer
    sektglas = page.locator("ol.list > li.c", has=page.locator(":scope > article .n", has_text="Sektglas"))
    expect(sektglas.locator("ol.kids > li.c .n")).to_have_text(["Definition"])
    guelting = page.locator("ol.list > li.c", has=page.locator(":scope > article .n", has_text="Gültig"))
    expect(guelting.locator("ol.kids > li.c .n")).to_have_text(["Ukrainerin"])
    # vote counts as in the seed
    first = sektglas.locator(":scope > article .acts button").first
    expect(first).to_have_text("▲ 14")
    expect(sektglas.locator(":scope > article .acts button").nth(1)).to_have_text("▼ 1")
    # the publisher's call to action sits above the comments
    cta = page.locator(".cta")
    expect(cta).to_contain_text("Hier können Sie den exxpress unterstützen")
    expect(cta.get_by_role("link", name="Jetzt unterstützen!")).to_be_visible()
    assert cta.bounding_box()["y"] < items.first.bounding_box()["y"]  # type: ignore[index]


def test_sort_switch(server: LiveServer, page: Page) -> None:
    open_widget(page, server.url + "/")
    expect(page.locator("li.c")).to_have_count(6)
    sort = page.get_by_label("Sortieren")
    sort.select_option("oldest")
    expect(page.locator("ol.list > li.c").first.locator(".n").first).to_have_text("rudi1234")
    assert top_level_names(page)[0] == "rudi1234"
    sort.select_option("newest")
    expect(page.locator("ol.list > li.c").first.locator(".n").first).to_contain_text("Gültig")
    sort.select_option("top")
    expect(page.locator("ol.list > li.c").nth(1).locator(".n").first).to_have_text("Sektglas Grünling")
    assert top_level_names(page)[0].startswith("Gültig")
    assert top_level_names(page)[-1] == "rudi1234"
    expect(page.locator("li.c")).to_have_count(6)  # replies come back with their parents


def test_screenshots_and_load_timing(server: LiveServer, browser: Browser) -> None:
    """Desktop and mobile screenshots for people to look at; the first-render time and widget size."""
    ARTIFACTS.mkdir(exist_ok=True)
    timings = {}
    for name, viewport, extra in (
        ("desktop", {"width": 1280, "height": 900}, {}),
        ("mobile", {"width": 390, "height": 844}, {"is_mobile": True, "has_touch": True}),
    ):
        ctx = new_context(browser, viewport=viewport, **extra)
        try:
            page = ctx.new_page()
            open_widget(page, server.url + "/")
            expect(page.locator("li.c")).to_have_count(6)
            page.screenshot(path=str(ARTIFACTS / f"demo-{name}.png"), full_page=True)
            page.locator(".cta").evaluate(
                "e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -16); }"
            )
            page.screenshot(path=str(ARTIFACTS / f"demo-{name}-comments.png"))
            timings[name] = page.evaluate(
                """() => {
                  const nav = performance.getEntriesByType('navigation')[0];
                  const mark = performance.getEntriesByName('parley:rendered')[0];
                  const js = performance.getEntriesByType('resource').find(e => e.name.endsWith('/embed.js'));
                  return {dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
                          comments_rendered_ms: mark && mark.startTime,
                          embed_js_transfer_bytes: js && js.encodedBodySize};
                }"""
            )
        finally:
            ctx.close()
    dump_json("demo-timings.json", timings)
    assert timings["desktop"]["embed_js_transfer_bytes"] <= 15 * 1024


def test_comments_in_view_at_load_render_without_layout_shift(server: LiveServer, browser: Browser) -> None:
    """A viewport tall enough to show the comments at once: measure the first render of the comments
    and the layout shift the page sees (CLS)."""
    ctx = new_context(browser, viewport={"width": 1280, "height": 4000})
    try:
        page = ctx.new_page()
        page.add_init_script(
            """window.__cls = 0;
               new PerformanceObserver(list => {
                 for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
               }).observe({type: 'layout-shift', buffered: true});"""
        )
        page.goto(server.url + "/healthz")  # warm the renderer and the connection, not the cache
        page.goto(server.url + "/")
        expect(page.locator("li.c")).to_have_count(6)
        page.wait_for_timeout(300)
        result = page.evaluate(
            """() => {
              const res = performance.getEntriesByType('resource');
              const js = res.find(e => e.name.includes('/embed.js'));
              const api = res.find(e => e.name.includes('/comments?'));
              const nav = performance.getEntriesByType('navigation')[0];
              return {cls: window.__cls,
                      dom_content_loaded_ms: nav.domContentLoadedEventEnd,
                      embed_js_ms: [js.startTime, js.responseEnd],
                      listing_ms: [api.startTime, api.responseEnd],
                      comments_rendered_ms: performance.getEntriesByName('parley:rendered')[0].startTime};
            }"""
        )
        dump_json("demo-first-render.json", result)
        assert result["cls"] < 0.1
    finally:
        ctx.close()
