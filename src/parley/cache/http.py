"""The HTTP side of the cache: keys, strong ETags, conditional requests and ``Cache-Control``.

Two audiences, two policies:

- Anonymous readers (no ``Authorization`` header, no session cookie) all get the same bytes for a
  thread page, so the response is shared: stored in :class:`~parley.cache.interfaces.ResponseCache`
  and marked ``public, max-age, s-maxage, stale-while-revalidate`` for browsers and a CDN.
- Logged-in readers see their own held comments and their votes: never stored, ``private,
  no-cache`` (a browser may keep it but must revalidate; a CDN must not keep it at all).

Both get a strong ``ETag`` (a hash of the identity bytes; the Brotli and gzip representations
carry their own, see :mod:`parley.web.encodings`) and a ``304 Not Modified`` without body when
``If-None-Match`` names any of them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from parley.cache.interfaces import CachedResponse, ResponseCache
from parley.config import Settings
from parley.web.context import SESSION_COOKIE
from parley.web.encodings import CODINGS, Coding, encode, negotiate, offered, tagged
from parley.web.responses import dumps

# What changes a thread view: credentials (logged-in view), the site chosen by Origin or header,
# and the encoding. Accept-Language only changes logged-in views (their pending comments' reasons),
# which no shared cache keeps.
VARY_PUBLIC = "Accept-Encoding, Authorization, Cookie, Origin, X-Parley-Site"
VARY_PRIVATE = VARY_PUBLIC + ", Accept-Language"


def has_credentials(request: Request) -> bool:
    """Whether the request could be a logged-in reader's (then nothing about it is shared)."""
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies


def cache_key(kind: str, *parts: Any) -> str:
    """A compact key for everything that decides the bytes of a response (kind, ids, version,
    parameters, the small live parts such as the thread's status). Hashed, so keys are short and
    name no thread in a shared store."""
    digest = hashlib.blake2b(dumps([kind, *parts]), digest_size=18).digest()
    return f"{kind}:{base64.urlsafe_b64encode(digest).decode()}"


EAGER_BYTES = 128 * 1024
"""A shared entry this large is made in every coding when it is built (the biggest are built in the
thread pool); a smaller one in the coding its first reader takes, and in another when a reader first
asks for it (:func:`completed`), so no CPU goes to bytes nobody is sent."""


def make_entry(body: bytes, compress_min_bytes: int, codings: tuple[Coding, ...] = CODINGS) -> CachedResponse:
    """The entry for ``body``: its ETag and, when it is at least ``compress_min_bytes`` long, its
    bytes in each of ``codings``."""
    etag = '"' + base64.urlsafe_b64encode(hashlib.blake2b(body, digest_size=15).digest()).decode() + '"'
    if len(body) < compress_min_bytes:
        return CachedResponse(body=body, etag=etag)
    gz = encode(body, "gzip") if "gzip" in codings else None
    br = encode(body, "br") if "br" in codings else None
    return CachedResponse(body=body, etag=etag, gzip=gz, br=br)


def if_none_match(request: Request, etags: tuple[str, ...]) -> bool:
    """RFC 9110 13.1.2: weak comparison, ``*`` matches any current representation."""
    return none_match(request.headers.get("if-none-match"), etags)


def none_match(header: str | None, etags: tuple[str, ...]) -> bool:
    """:func:`if_none_match` on the header's value."""
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


def codings_for(body: bytes, settings: Settings) -> tuple[Coding, ...]:
    """The codings a response body may be sent in: none when it is small."""
    if len(body) < settings.compress_min_bytes:
        return ()
    return offered(settings.compress_brotli)


def completed(entry: CachedResponse, settings: Settings, accept_encoding: str) -> CachedResponse | None:
    """``entry`` with its bytes in the coding a request with ``accept_encoding`` gets, when that
    coding's bytes are not made yet (the caller stores it back for the next reader of that coding);
    None when the entry can answer the request as it is."""
    coding = negotiate(accept_encoding, codings_for(entry.body, settings))
    if coding is None or entry.encoded(coding) is not None:
        return None
    made = encode(entry.body, coding)
    return replace(entry, br=made) if coding == "br" else replace(entry, gzip=made)


def in_requested_coding(
    cache: ResponseCache, key: str, entry: CachedResponse, settings: Settings, accept_encoding: str
) -> CachedResponse:
    """``entry`` able to answer a request with ``accept_encoding``: :func:`completed` and stored
    back under ``key`` when its first reader in that coding comes (the views and the front of the
    cache both answer through this, so each coding is made once per version and cache)."""
    fuller = completed(entry, settings, accept_encoding)
    if fuller is None:
        return entry
    cache.set(key, fuller)
    return fuller


def plan(
    entry: CachedResponse,
    settings: Settings,
    *,
    accept_encoding: str,
    if_none_match_header: str | None,
    public: bool,
) -> tuple[int, bytes | None, dict[str, str]]:
    """``(status, body, headers)`` of the answer to a read of ``entry``: 304 (no body) when
    If-None-Match names any representation of it, else 200 with the Brotli or gzip bytes when
    accepted and made (the client's preference, Brotli on a tie; :func:`completed` makes them).
    Shared by the views (:func:`respond`) and the front of the cache (:mod:`parley.cache.front`),
    so both send the same bytes and headers."""
    # among the codings made: after completed(), the one the client prefers is among them
    made = tuple(c for c in codings_for(entry.body, settings) if entry.encoded(c) is not None)
    coding = negotiate(accept_encoding, made)
    encoded = entry.encoded(coding)
    out = {
        "ETag": tagged(entry.etag, coding),
        "Cache-Control": cache_control(settings, public=public),
        "Vary": VARY_PUBLIC if public else VARY_PRIVATE,
    }
    if if_none_match_header and none_match(
        if_none_match_header, (entry.etag, tagged(entry.etag, "gzip"), tagged(entry.etag, "br"))
    ):
        return 304, None, out
    if coding is not None and encoded is not None:
        out["Content-Encoding"] = coding
        return 200, encoded, out
    return 200, entry.body, out


def respond(
    request: Request,
    entry: CachedResponse,
    settings: Settings,
    *,
    public: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The 200 (compressed when accepted and stored) or the 304 for ``entry``."""
    status, body, out = plan(
        entry,
        settings,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match_header=request.headers.get("if-none-match"),
        public=public,
    )
    out.update(headers or {})
    if body is None:
        return Response(status_code=status, headers=out)
    return Response(body, media_type="application/json", headers=out)
