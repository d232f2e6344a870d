"""The HTTP side of the cache: keys, strong ETags, conditional requests and ``Cache-Control``.

Two audiences, two policies:

- Anonymous readers (no ``Authorization`` header, no session cookie) all get the same bytes for a
  thread page, so the response is shared: stored in :class:`~parley.cache.interfaces.ResponseCache`
  and marked ``public, max-age, s-maxage, stale-while-revalidate`` for browsers and a CDN.
- Logged-in readers see their own held comments and their votes: never stored, ``private,
  no-cache`` (a browser may keep it but must revalidate; a CDN must not keep it at all).

Both get a strong ``ETag`` (a hash of the bytes of the representation sent; the gzip one differs)
and a ``304 Not Modified`` without body when ``If-None-Match`` names it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from parley.cache.interfaces import CachedResponse
from parley.config import Settings
from parley.web.context import SESSION_COOKIE
from parley.web.responses import dumps

# What changes a thread view: credentials (logged-in view), the site chosen by Origin or header,
# and the encoding. Accept-Language only changes logged-in views (their pending comments' reasons),
# which no shared cache keeps.
VARY_PUBLIC = "Accept-Encoding, Authorization, Cookie, Origin, X-Parley-Site"
VARY_PRIVATE = VARY_PUBLIC + ", Accept-Language"
GZIP_LEVEL = 6  # zlib's default: level 9 costs twice the CPU for ~1% smaller thread JSON


def has_credentials(request: Request) -> bool:
    """Whether the request could be a logged-in reader's (then nothing about it is shared)."""
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies


def cache_key(kind: str, *parts: Any) -> str:
    """A compact key for everything that decides the bytes of a response (kind, ids, version,
    parameters, the small live parts such as the thread's status). Hashed, so keys are short and
    name no thread in a shared store."""
    digest = hashlib.blake2b(dumps([kind, *parts]), digest_size=18).digest()
    return f"{kind}:{base64.urlsafe_b64encode(digest).decode()}"


def make_entry(body: bytes, compress_min_bytes: int) -> CachedResponse:
    etag = '"' + base64.urlsafe_b64encode(hashlib.blake2b(body, digest_size=15).digest()).decode() + '"'
    gz = gzip.compress(body, GZIP_LEVEL, mtime=0) if len(body) >= compress_min_bytes else None
    return CachedResponse(body=body, etag=etag, gzip=gz)


def accepts_gzip(request: Request) -> bool:
    """``gzip`` listed in Accept-Encoding without ``q=0``."""
    for part in request.headers.get("accept-encoding", "").split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.replace(" ", "").lower()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def if_none_match(request: Request, etags: tuple[str, ...]) -> bool:
    """RFC 9110 13.1.2: weak comparison, ``*`` matches any current representation."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag in etags:
            return True
    return False


def cache_control(settings: Settings, *, public: bool) -> str:
    if not public:
        return "private, no-cache"
    return (
        f"public, max-age={settings.http_max_age}, s-maxage={settings.http_s_maxage}, "
        f"stale-while-revalidate={settings.http_stale_while_revalidate}"
    )


def respond(
    request: Request,
    entry: CachedResponse,
    settings: Settings,
    *,
    public: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The 200 (gzip when accepted and worth it) or the 304 for ``entry``."""
    use_gzip = entry.gzip is not None and accepts_gzip(request)
    etag = entry.gzip_etag if use_gzip else entry.etag
    out = {
        "ETag": etag,
        "Cache-Control": cache_control(settings, public=public),
        "Vary": VARY_PUBLIC if public else VARY_PRIVATE,
        **(headers or {}),
    }
    if if_none_match(request, (entry.etag, entry.gzip_etag)):
        return Response(status_code=304, headers=out)
    if use_gzip:
        assert entry.gzip is not None
        out["Content-Encoding"] = "gzip"
        return Response(entry.gzip, media_type="application/json", headers=out)
    return Response(entry.body, media_type="application/json", headers=out)
