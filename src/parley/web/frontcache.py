"""The front of the response cache as ASGI middleware (the index and its rules: :mod:`parley.cache.front`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from parley.cache.front import SCOPE_KEY, FrontIndex, Identity
from parley.cache.http import in_requested_coding, plan
from parley.web.context import SESSION_COOKIE, SITE_HEADER

_COOKIE_MARK = SESSION_COOKIE.encode() + b"="
_SITE_HEADER = SITE_HEADER.encode()


class FrontCacheMiddleware:
    """Answers a remembered anonymous GET of the API from the response cache (see the module doc).

    Sits inside the CORS, metrics, compression and security-header layers, so those apply to its
    answers as to any other; only routing, validation and the database are skipped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        registry = scope["app"].state.registry
        front: FrontIndex = registry.front
        if not front.enabled:
            await self.app(scope, receive, send)
            return
        # the first of repeated headers, as the views read them (``Headers.get``): the identity must
        # name the site the view chose, or one request could plant its answer under another's
        origin = site = accept_encoding = None
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)  # a logged-in view: never shared
                return
            if name == b"cookie" and _COOKIE_MARK in value:
                await self.app(scope, receive, send)
                return
            if name == b"origin":
                origin = value if origin is None else origin
            elif name == _SITE_HEADER:
                site = value if site is None else site
            elif name == b"accept-encoding":
                accept_encoding = value if accept_encoding is None else accept_encoding
            elif name == b"if-none-match":
                if_none_match = value if if_none_match is None else if_none_match
        changes = registry.db.changes
        identity: Identity = (scope["path"], scope.get("query_string", b""), origin or b"", site or b"")
        entry = front.get(identity, registry.clock.now().timestamp())
        if entry is not None and changes.current(entry.slots) != entry.marks:
            front.forget(identity)  # a write since (or the stamp cannot be read: None)
            entry = None
        cached = registry.cache.get(entry.key) if entry is not None else None
        if entry is None or cached is None:
            snapshot = changes.snapshot()  # before the view reads: a write after it shows as a change
            if snapshot is not None:  # else nobody can say whether the database changed
                scope[SCOPE_KEY] = (identity, snapshot)
            await self.app(scope, receive, send)
            return
        registry.metrics.cache_lookup(entry.view, hit=True)
        if entry.route is not None:
            scope["route"] = entry.route
        accepted = (accept_encoding or b"").decode("latin-1")
        cached = in_requested_coding(registry.cache, entry.key, cached, registry.settings, accepted)
        status, body, headers = plan(
            cached,
            registry.settings,
            accept_encoding=accepted,
            if_none_match_header=if_none_match.decode("latin-1") if if_none_match is not None else None,
            public=True,
        )
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if body is not None:
            raw.append((b"content-length", str(len(body)).encode()))
            raw.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body or b""})
