"""Helpers of the browser suite: the publisher's host pages (another origin), the handle on the live
Parley server, and small page helpers. The fixtures are in ``conftest.py``."""

from __future__ import annotations

import html
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Locator, Page

from parley.clock import SystemClock
from parley.sites.models import Site
from parley.sites.services import do_update_site_settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SSO_SECRET = "publisher-shared-secret-for-tests-0123456789"
PASSWORD = "correct horse battery staple"
# letters that no look-alike folding merges (no i/l/1, o/0, rn/m, vv/w): names made of them never
# "look too much like" one another, which the name checks refuse
_LETTERS = "bcdfghjkpqstxyz"


def unique(prefix: str) -> str:
    return prefix + "".join(random.choice(_LETTERS) for _ in range(8))


@dataclass
class HostPages:
    """Pages registered by path; ``/article`` builds one from its query string."""

    parley_url: str
    port: int = 0
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, body: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (body, headers or {})
        return self.url + path

    def article(
        self,
        thread: str,
        *,
        lang: str = "de",
        attrs: dict[str, str] | None = None,
        head: str = "",
        csp: str | None = None,
        before: str = "<h1>Artikel</h1><p>Ein kurzer Artikel.</p>",
        path: str | None = None,
    ) -> str:
        """A host page embedding the widget for ``thread``: the script tag plus a container."""
        data = {"data-parley-thread": thread, "data-parley-site": "demo", **(attrs or {})}
        data_attrs = " ".join(f'{k}="{html.escape(v)}"' for k, v in data.items() if v is not None)
        body = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Artikel {thread}</title>'
            f'{head}<script src="{self.parley_url}/embed.js" {data_attrs} async></script></head>'
            f'<body>{before}<div id="parley-comments"></div></body></html>'
        )
        headers = {"Content-Security-Policy": csp} if csp else {}
        return self.add(path or f"/a/{thread}", body, headers)


def host_handler(pages: HostPages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            found = pages.pages.get(path)
            if found is None:
                self.send_error(404)
                return
            body, headers = found
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    host: HostPages

    def api(self, method: str, path: str, *, token: str | None = None, site: str = "demo", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        sep = "&" if "?" in path else "?"
        r = httpx.request(
            method, f"{self.url}/api/v1{path}{sep}site={site}", headers=headers, timeout=10, **kw
        )
        assert r.status_code < 400, r.text
        return r.json() if r.content else None

    def register(self, name: str | None = None, *, password: bool = False) -> tuple[str, str]:
        """A new local account: (name, bearer token). Made through the services unless it needs a
        password (``password=True``: registered over HTTP with :data:`PASSWORD`), because hashing
        one costs more than anything else these tests do."""
        name = name or unique("Leserin ")
        email = f"{name.replace(' ', '.').lower()}@example.org"
        if password:
            out = self.api(
                "POST", "/auth/register", json={"name": name, "email": email, "password": PASSWORD}
            )
            return name, out["token"]
        from parley.accounts.services import do_create_account, do_create_session

        now = datetime.now(UTC)
        with self.app.state.registry.db.write() as s:
            account = do_create_account(s, name=name, email=email, now=now)
            return name, do_create_session(s, account, now, 1).token

    def seed(self, thread: str, text: str, n: int, *, parent_id: int | None = None) -> list[int]:
        """``n`` published comments (``text`` formatted with ``i`` = 0 …) straight through the write
        services: long threads are set up without running the moderation pipeline n times."""
        from support.factories import make_comments

        db = self.app.state.registry.db
        return make_comments(db, SystemClock(), thread, n, site="demo", parent_id=parent_id, text=text)

    def post(self, thread: str, body: str, token: str, site: str = "demo", **kw: Any) -> dict[str, Any]:
        out: dict[str, Any] = self.api(
            "POST", f"/threads/{thread}/comments", token=token, site=site, json={"body": body, **kw}
        )
        return out["comment"]

    def sso_token(self, sub: str, name: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "sub": sub,
            "name": name,
            "email": f"{sub}@publisher.example",
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode({**payload, **claims}, SSO_SECRET, algorithm="HS256")

    def site_settings(self, slug: str, changes: dict[str, Any]) -> None:
        registry = self.app.state.registry
        with registry.db.write() as s:
            site = s.query(Site).filter_by(slug=slug).one()
            do_update_site_settings(s, site, changes)
        cache = registry.extras.get("site_cache")
        if cache is not None:
            cache.clear()


def new_context(browser: Browser, **kw: Any) -> BrowserContext:
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "de-DE"}
    options.update(kw)
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(10_000)
    return ctx


def open_widget(page: Page, url: str) -> None:
    """Open a page and bring the comments into view (the widget loads lazily)."""
    page.goto(url)
    page.locator("#parley-comments").scroll_into_view_if_needed()
    page.locator("#parley-comments h2").wait_for()


def strict_csp(parley_url: str) -> str:
    """A publisher's strict Content Security Policy that allows the widget and nothing else."""
    return (
        f"default-src 'none'; script-src {parley_url}; connect-src {parley_url}; style-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; "
        "require-trusted-types-for 'script'; trusted-types parley"
    )


def watch_csp(page: Page) -> None:
    """Collect CSP violations into ``window.__csp`` (read it with ``page.evaluate``)."""
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def remember(target: Page | BrowserContext, server: LiveServer, name: str, token: str) -> None:
    """Hold a session for the widget on host pages, as it keeps one after a login
    (``localStorage``, docs/decisions/0004-widget-auth.md): the page opens signed in, without a
    login round trip. Written before every page load: a test that logs out loads no page after."""
    auth = json.dumps({"t": token, "n": name})
    target.add_init_script(
        f"if (location.origin == {json.dumps(server.host.url)}) "
        f"localStorage.setItem({json.dumps('parley:' + server.url)}, {json.dumps(auth)});"
    )


def comment(page: Page, text: str) -> Locator:
    """The comment item whose body contains ``text`` (the innermost one)."""
    return page.locator("li.c", has=page.locator(".b", has_text=text)).last


def dump_json(name: str, data: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2))
