"""Drive Debian's Chromium for the security battery, in a process of its own.

Playwright's sync API allows one instance per thread, and the browser suite (``tests/browser``)
holds the session's; so the battery runs its browser here and talks JSON: a plan on stdin, the
findings on stdout. ``python browser_runner.py < plan.json``.

Plan: ``{"chromium": path, "contexts": [{"cookies": [...], "bypass_csp": bool, "visits": [...]}],
"attacks": [...]}``. A visit opens a page (``kind``: ``widget`` also loads every page of comments),
waits, and reports what ran and what got into the DOM:

- ``executions``: calls of ``alert``/``confirm``/``prompt``/``print`` and writes to the sentinel
  global ``xssSentinel`` (hooked in every frame before any script runs), plus real dialogs;
- ``injected``: active markup in the DOM, shadow roots included — inline or foreign scripts,
  frames, objects, ``on*`` attributes, ``javascript:``/``data:`` URLs, ``<base>``, SVG animation of
  ``href``, ``<meta>`` in the body, CSS ``expression()``;
- ``writes``: any request other than GET/HEAD made while the page only rendered (an injected
  ``hx-post ... hx-trigger=load`` would show here).

An attack (CSRF) opens an attacker's page on another origin and reports the requests it caused.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from playwright.sync_api import BrowserContext, Page, sync_playwright

HOOKS = """
(() => {
  const hits = [];
  Object.defineProperty(window, '__xssHits', {value: hits});
  const hook = (name) => function (m) { hits.push(name + ':' + String(m).slice(0, 80)); };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    Object.defineProperty(window, name, {value: hook(name), writable: false, configurable: false});
  }
  let value;
  Object.defineProperty(window, 'xssSentinel', {
    configurable: false,
    get() { return value; },
    set(v) { value = v; hits.push('sentinel:' + String(v)); },
  });
})();
"""

SCAN = """
(allowed) => {
  const found = [];
  const bad = /^\\s*(javascript|vbscript|livescript|data:text\\/html|data:image\\/svg)/i;
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background',
                    'dynsrc', 'lowsrc', 'srcdoc', 'to', 'values', 'from', 'by'];
  const note = (el, why) => found.push(why + ': <' + el.tagName.toLowerCase() + ' ' +
    [...el.attributes].map(a => a.name + '="' + a.value.slice(0, 60) + '"').join(' ') + '>');
  const walk = (root, inBody) => {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      const body = inBody || !!el.closest('body');
      if (el.shadowRoot) walk(el.shadowRoot, true);
      if (tag === 'script') {
        const src = el.getAttribute('src');
        const type = (el.getAttribute('type') || 'text/javascript').toLowerCase();
        if (type.includes('json')) continue;
        if (!src || !allowed.some(a => new URL(src, location.href).href.startsWith(a))) note(el, 'script');
        continue;
      }
      if (['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'animate',
           'set', 'handler', 'foreignobject', 'use', 'isindex', 'keygen'].includes(tag)) note(el, 'element');
      if (tag === 'meta' && (body || el.hasAttribute('http-equiv'))) note(el, 'meta');
      if (tag === 'link' && body) note(el, 'link');
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) note(el, 'handler');
        else if (urlAttrs.includes(name) && bad.test(a.value)) note(el, 'url');
        else if (name === 'style' && /expression\\s*\\(|javascript:/i.test(a.value)) note(el, 'style');
        else if (name.startsWith('hx-on') || name.startsWith('data-hx-on')) note(el, 'htmx-handler');
      }
    }
  };
  walk(document, false);
  return found;
}
"""


COUNT_MORE_THAN = """(n) => {
  const root = document.querySelector('#parley-comments').shadowRoot || document;
  return root.querySelectorAll('li.c').length > n;
}"""


def _hits(page: Page) -> list[str]:
    out: list[str] = []
    for frame in page.frames:
        try:
            out += frame.evaluate("() => (window.__xssHits || []).slice()")
        except Exception as exc:  # a frame that navigated away: report, do not hide
            out.append(f"frame unreadable: {type(exc).__name__}")
    return out


def _load_all_comments(page: Page, more_label: str, limit: int = 60) -> int:
    """Scroll the widget into view, then press "load more" and every "more replies" until none is left."""
    page.locator("#parley-comments").scroll_into_view_if_needed()
    page.locator("#parley-comments h2").first.wait_for(timeout=20_000)
    clicks = 0
    for _ in range(limit):
        more = page.get_by_role("button", name=more_label)
        replies = page.locator("#parley-comments button.more-replies, #parley-comments li.c > button.sec")
        target = more if more.count() and more.first.is_visible() else None
        if target is None and replies.count():
            target = replies.first if replies.first.is_visible() else None
        if target is None:
            break
        before = page.locator("#parley-comments li.c").count()
        target.first.click()
        clicks += 1
        try:
            page.wait_for_function(COUNT_MORE_THAN, arg=before, timeout=10_000)
        except Exception:
            break
    return clicks


def visit(context: BrowserContext, spec: dict[str, Any], allowed: list[str]) -> dict[str, Any]:
    page = context.new_page()
    dialogs: list[str] = []
    writes: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(f"{d.type}:{d.message[:80]}"), d.dismiss()))
    page.on(
        "request",
        lambda r: (
            writes.append(f"{r.method} {r.url}") if r.method not in ("GET", "HEAD", "OPTIONS") else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    result: dict[str, Any] = {"url": spec["url"], "label": spec.get("label", spec["url"])}
    try:
        page.goto(spec["url"], wait_until="load", timeout=30_000)
        if spec.get("kind") == "widget":
            result["clicks"] = _load_all_comments(page, spec["more_label"])
            result["comments"] = page.locator("#parley-comments li.c").count()
        for selector in spec.get("hover", []):  # hover and focus what a reader would touch
            loc = page.locator(selector)
            for i in range(min(loc.count(), 5)):
                with contextlib.suppress(Exception):  # hidden or detached: nothing to hover
                    loc.nth(i).hover(timeout=1000)
        page.wait_for_timeout(spec.get("settle_ms", 150))
        result["executions"] = _hits(page) + dialogs
        result["injected"] = page.evaluate(SCAN, allowed)
        result["text_length"] = page.evaluate("() => document.body ? document.body.innerText.length : 0")
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        result["executions"] = dialogs
        result["injected"] = []
    result["writes"] = writes
    result["page_errors"] = errors
    page.close()
    return result


def attack(context: BrowserContext, spec: dict[str, Any]) -> dict[str, Any]:
    """Open the attacker's page and wait for its scripts and forms to finish knocking."""
    page = context.new_page()
    seen: list[str] = []
    page.on("response", lambda r: seen.append(f"{r.request.method} {r.url} -> {r.status}"))
    page.on("requestfailed", lambda r: seen.append(f"{r.method} {r.url} -> failed {r.failure}"))
    page.goto(spec["url"], wait_until="load", timeout=30_000)
    with contextlib.suppress(Exception):  # a page that never says it is done is judged by what it sent
        page.wait_for_function("() => window.__attackDone === true", timeout=spec.get("timeout_ms", 15_000))
    report = page.evaluate("() => window.__attackReport || null") if not page.is_closed() else None
    page.wait_for_timeout(300)
    out = {"url": spec["url"], "seen": seen, "report": report}
    page.close()
    return out


def main() -> None:
    plan = json.load(sys.stdin)
    results: dict[str, Any] = {"visits": [], "attacks": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=plan["chromium"],
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            for ctx_spec in plan.get("contexts", []):
                context = browser.new_context(
                    bypass_csp=ctx_spec.get("bypass_csp", False),
                    locale="de-DE",
                    viewport={"width": 1280, "height": 900},
                )
                context.set_default_timeout(15_000)
                context.add_init_script(HOOKS)
                if ctx_spec.get("cookies"):
                    context.add_cookies(ctx_spec["cookies"])
                for spec in ctx_spec.get("visits", []):
                    results["visits"].append(visit(context, spec, plan.get("allowed_scripts", [])))
                for spec in ctx_spec.get("attacks", []):
                    results["attacks"].append(attack(context, spec))
                context.close()
        finally:
            browser.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
