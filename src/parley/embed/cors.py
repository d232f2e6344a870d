"""CORS for the widget: publisher pages on their own origins call the API.

An origin gets CORS headers when some site lists it in ``allowed_origins``; any other origin gets
none, so browsers keep its pages from reading the API. Credentials are never allowed: the widget
authenticates with a bearer token it holds, so a page on another origin can never ride on a
reader's Parley cookie (docs/decisions/0004-widget-auth.md). The admin API is not for browsers on
other origins and gets no CORS headers at all.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.sites.models import Site
from parley.sites.services import normalize_origin

ALLOW_METHODS = b"GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = b"Authorization, Content-Type, Idempotency-Key, X-Parley-Site, Last-Event-ID"
EXPOSE_HEADERS = b"Retry-After"
MAX_AGE = b"7200"  # Chromium's cap: preflights are cached for two hours


def _allowed_origins(registry: Any) -> frozenset[str]:
    with registry.db.read() as session:
        rows = session.scalars(select(Site.allowed_origins))
        return frozenset(o for origins in rows for o in (origins or []) if isinstance(o, str))


class CorsMiddleware:
    def __init__(self, app: ASGIApp, ttl: float = 5.0) -> None:
        self.app = app
        self.ttl = ttl
        self._origins: frozenset[str] = frozenset()
        self._expires = 0.0

    async def allowed(self, scope: Scope, origin: str) -> bool:
        if time.monotonic() >= self._expires:
            registry = scope["app"].state.registry
            self._origins = await run_in_threadpool(_allowed_origins, registry)
            self._expires = time.monotonic() + self.ttl
        wanted = normalize_origin(origin)
        return wanted is not None and wanted in self._origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/admin"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        ok = await self.allowed(scope, origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin if ok else None)
            return
        if not ok:
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            (b"vary", b"Origin"),
        ]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send, origin: str | None) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        if origin is not None:
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", MAX_AGE),
            ]
        await send({"type": "http.response.start", "status": 204 if origin else 403, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
