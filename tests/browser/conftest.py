"""Browser fixtures: one headless Chromium (Debian's) per session, one real Parley server per module.

The Parley server is the real app in uvicorn on a free loopback port, in a thread of this process,
on a fresh copy of the migrated SQLite template with the demo loaded. Next to it a tiny "publisher"
server on another port (another origin) serves host pages that embed the widget the way a
publisher would, with whatever CSP, CSS, language and attributes a test asks for.

Sites: ``demo`` (the seed article), ``strict`` (pre-moderates every comment), ``sso`` (signs in
with publisher JWTs), ``members`` (no guests). Flood and rate limits are off on all of them (the
tests post faster than any person, from one address), and so are the text classifiers: these tests
are about the widget, and a model's verdict on "Ebene 3" is not (the engine has its own tests).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from browserkit import SSO_SECRET, HostPages, LiveServer, host_handler, new_context
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from parley.app import create_app
from parley.clock import SystemClock
from parley.config import Settings
from parley.demo.services import do_load_demo
from parley.sites.models import Site
from parley.sites.services import do_create_site, do_update_site_settings
from support.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MODERATION = {"rate": {"enabled": False}, "classifier": {"enabled": False}}
TEST_POLICY = {"moderation": MODERATION}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark browser tests, and run them last: Playwright's sync API keeps an event loop running on
    the main thread for as long as the session's browser lives, and ``asyncio.run`` in any test
    after the first browser test would fail."""
    browser = [item for item in items if "/browser/" in str(item.fspath)]
    for item in browser:
        item.add_marker(pytest.mark.browser)
    if browser:
        chosen = set(browser)
        items[:] = [item for item in items if item not in chosen] + browser


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    d = tmp_path_factory.mktemp("browser")
    shutil.copy(sqlite_template, d / "parley.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    host = HostPages(parley_url=url)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), host_handler(host))
    host.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    settings = Settings(
        database_url=f"sqlite:///{d / 'parley.db'}",
        data_dir=d,
        secret_key="browser-test-secret-not-for-production",
        public_url=url,
        default_site="demo",
        log_level="WARNING",
        live_heartbeat_seconds=2.0,
    )
    app = create_app(settings, clock=SystemClock())
    registry = app.state.registry
    now = SystemClock().now()
    with registry.db.write() as s:
        do_load_demo(s, now, url)
        demo = s.query(Site).filter_by(slug="demo").one()
        demo.allowed_origins = sorted({*demo.allowed_origins, host.url})
        do_update_site_settings(s, demo, TEST_POLICY)
        origins = [url, host.url]
        do_create_site(
            s,
            slug="strict",
            name="Strenge Zeitung",
            now=now,
            allowed_origins=origins,
            settings={"moderation": {**MODERATION, "premoderate_all": True}},
        )
        do_create_site(
            s,
            slug="sso",
            name="SSO-Zeitung",
            now=now,
            allowed_origins=origins,
            settings=TEST_POLICY,
            sso_secret=SSO_SECRET,
        )
        do_create_site(
            s,
            slug="members",
            name="Nur Mitglieder",
            now=now,
            allowed_origins=origins,
            settings={"guests_allowed": False, **TEST_POLICY},
        )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the Parley test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=url, app=app, host=host)
    finally:
        uv.should_exit = True
        thread.join(15)
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make install` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
