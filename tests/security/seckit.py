"""Helpers of the security battery: marked private data, real servers, concurrent calls.

Private data used by the battery carries a mark (:data:`MARK` in bodies and names,
:func:`private_email` addresses, client addresses from the documentation ranges 203.0.113.0/24,
198.51.100.0/24 and 2001:db8::/32), so ``test_zz_privacy_logs.py`` can grep every log of the run
for it.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.clock import SystemClock
from parley.db.database import Database
from support.apps import TEST_MODERATION, settings_for
from support.factories import make_site
from support.servers import ParleyServer

MARK = "PARLEY-PRIVATE"
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def private_body(text: str = "Ein vertraulicher Kommentar.") -> str:
    return f"{MARK}-{uuid.uuid4().hex[:10]} {text}"


def private_email() -> str:
    return f"private-{uuid.uuid4().hex[:10]}@example.org"


def doc_ip(n: int) -> str:
    """A client address from TEST-NET-3 (never a real reader)."""
    return f"203.0.113.{n % 254 + 1}"


def load_jsonl(name: str) -> list[str]:
    """A corpus file: one JSON string per line; ``#`` lines are comments."""
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            value = json.loads(line)
            assert isinstance(value, str)
            out.append(value)
    return out


def seed_site(url: str, tmp: Path, slug: str = "test", **kw: Any) -> None:
    db = Database(settings_for(url, tmp))
    try:
        kw.setdefault("settings", {"moderation": TEST_MODERATION})
        kw.setdefault("name", "Testzeitung")
        make_site(db, SystemClock(), slug, **kw)
    finally:
        db.dispose()


SERVER_ENV = {"PARLEY_LOG_LEVEL": "INFO", "PARLEY_ACCESS_LOG": "true"}


@contextmanager
def serving(url: str, tmp: Path, *, workers: int = 1, **env: str) -> Iterator[ParleyServer]:
    """A real ``parley serve`` (production-like logging: INFO and the access log on)."""
    server = ParleyServer(url, tmp, workers=workers, env={**SERVER_ENV, **env})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    raw: bytes | None = None,
    timeout: float = 60,
) -> Reply:
    """One HTTP request on a fresh connection (JSON body unless ``raw``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        h = {"Content-Type": "application/json"} if data is not None and raw is None else {}
        h.update(headers or {})
        conn.request(method, path, data, h)
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def all_at_once(calls: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run the calls on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]
    return results


# --- browser scaffolding: the app in a uvicorn thread, a second origin, the runner ---------------------


class Pages:
    """A second origin (another port): the publisher's article, or an attacker's page."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        pages: dict[str, tuple[str, dict[str, str]]] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.get(self.path.split("?", 1)[0])
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

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, body: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (body, headers or {})
        return self.url + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def live_app(app: Any, port: int) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread of this process (seeding stays in-process)."""
    import time

    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Parley test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


CHROMIUM = "/usr/bin/chromium"


def run_browser(plan: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
    """Run ``browser_runner.py`` with ``plan`` in its own process; its findings as a dict."""
    import subprocess
    import sys

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is not installed: run `make install` (apt-get install chromium)")
    proc = subprocess.run(
        [sys.executable, str(HERE / "browser_runner.py")],
        input=json.dumps({"chromium": CHROMIUM, **plan}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"browser runner failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
