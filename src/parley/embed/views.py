"""Serve the widget: ``GET /embed.js`` (what publishers embed) and ``GET /embed.<digest>.js``.

``/embed.js`` keeps one URL across releases, so it is cached for an hour and revalidated with a
strong ETag (a 304 costs a round trip, no body). ``/embed.<digest>.js`` names one exact build and is
cached for a year (``immutable``). Both are sent Brotli-compressed or gzipped, as the browser
accepts, allow any origin to load them (``Access-Control-Allow-Origin: *``, ``Cross-Origin-Resource-Policy:
cross-origin``) and carry no cookies.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from parley import __version__
from parley.embed.bundle import Bundle, bundle
from parley.embed.cors import CorsMiddleware
from parley.web.encodings import CODINGS, negotiate

router = APIRouter(include_in_schema=False)

STABLE_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def _etag_matches(header: str | None, b: Bundle) -> bool:
    """Either representation's tag counts: both are fresh as long as the build is current."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or any(b.encoded(coding)[1] in tags for coding in (None, *CODINGS))


def serve_bundle(request: Request, b: Bundle, cache_control: str) -> Response:
    coding = negotiate(request.headers.get("accept-encoding"))
    body, etag = b.encoded(coding)
    headers = {
        "Cache-Control": cache_control,
        # a strong tag per representation (identity, Brotli and gzip bytes differ)
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Parley-Widget": b.filename,
    }
    if _etag_matches(request.headers.get("if-none-match"), b):
        return Response(status_code=304, headers=headers)
    if coding is not None:
        headers["Content-Encoding"] = coding
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.api_route("/embed.js", methods=["GET", "HEAD"])
def embed_js(request: Request) -> Response:
    """The widget. Publishers embed this URL; it revalidates hourly."""
    return serve_bundle(request, bundle(__version__), STABLE_CACHE)


@router.api_route("/embed.{digest}.js", methods=["GET", "HEAD"])
def embed_js_pinned(request: Request, digest: str) -> Response:
    """One exact build of the widget, cacheable for a year. An old digest leads to the current one."""
    current = bundle(__version__)
    if digest != current.digest:
        return RedirectResponse("/embed.js", status_code=307, headers={"Cache-Control": "no-cache"})
    return serve_bundle(request, current, IMMUTABLE_CACHE)


def includeme(app: FastAPI) -> None:
    bundle(__version__)  # build now: a broken asset fails at startup, not on a reader's request
    app.include_router(router)
    app.add_middleware(CorsMiddleware)
