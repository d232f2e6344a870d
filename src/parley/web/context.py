"""Per-request context: registry, clock reading, locale, client address, site and principal.

Site and principal are resolved lazily inside the view's unit of work (they need the database),
and at most once per request.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from parley import i18n
from parley.accounts import principal as principals
from parley.accounts import services as accounts
from parley.accounts.errors import CsrfFailed
from parley.accounts.principal import Principal
from parley.registry import Registry
from parley.security import client_ip, hash_ip
from parley.sites import services as sites
from parley.sites.models import Site

SESSION_COOKIE = "parley_session"
CSRF_HEADER = "x-csrf-token"
SITE_HEADER = "x-parley-site"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SiteCache:
    """Sites change rarely and are read on every request: keep detached copies for a few seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._by_slug: dict[str, tuple[float, Site]] = {}
        self._by_origin: dict[str, tuple[float, str | None]] = {}
        self._reserved: tuple[float, tuple[list[str], list[str]]] | None = None

    def clear(self) -> None:
        self._by_slug.clear()
        self._by_origin.clear()
        self._reserved = None

    def reserved_names(self, session: Session) -> tuple[list[str], list[str]]:
        """:func:`parley.accounts.services.reserved_names` (read from every site's settings), kept
        as long as the sites are: a guest's name is checked against them on every guest POST."""
        hit = self._reserved
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = accounts.reserved_names(session)
        self._reserved = (now + self.ttl, value)
        return value

    def by_slug(self, session: Session, slug: str) -> Site:
        hit = self._by_slug.get(slug)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        site = sites.get_site_by_slug(session, slug)
        session.expunge(site)
        self._by_slug[slug] = (now + self.ttl, site)
        return site

    def slug_for_origin(self, session: Session, origin: str) -> str | None:
        hit = self._by_origin.get(origin)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        site = sites.find_site_by_origin(session, origin)
        slug = site.slug if site is not None else None
        if len(self._by_origin) > 1000:
            self._by_origin.clear()
        self._by_origin[origin] = (now + self.ttl, slug)
        return slug


class RequestContext:
    def __init__(self, request: Request, registry: Registry) -> None:
        self.request = request
        self.registry = registry
        self.settings = registry.settings
        self.now: datetime = registry.clock.now()
        self._site: Site | None = None
        self._principal: Principal | None = None

    @property
    def site_cache(self) -> SiteCache:
        cache = self.registry.extras.get("site_cache")
        if cache is None:
            cache = self.registry.extras["site_cache"] = SiteCache()
        assert isinstance(cache, SiteCache)
        return cache

    @property
    def locale(self) -> str:
        loc = getattr(self.request.state, "locale", None)
        if not isinstance(loc, str):
            loc = i18n.negotiate(
                [self.request.query_params.get("lang")],
                self.request.headers.get("accept-language"),
            )
            self.request.state.locale = loc
        return loc

    @property
    def client_ip(self) -> str | None:
        peer = self.request.client.host if self.request.client else None
        return client_ip(peer, self.request.headers.get("x-forwarded-for"), self.settings.trusted_proxies)

    @functools.cached_property
    def ip_hash(self) -> str | None:
        """Once per request: a POST needs it for the rate limits and for the comment (an HMAC)."""
        return hash_ip(self.settings.ip_key, self.client_ip)

    def site(self, session: Session) -> Site:
        if self._site is None:
            slug = self.request.query_params.get("site") or self.request.headers.get(SITE_HEADER)
            if not slug:
                origin = self.request.headers.get("origin")
                slug = self.site_cache.slug_for_origin(session, origin) if origin else None
            self._site = self.site_cache.by_slug(session, slug or self.settings.default_site)
        return self._site

    def principal(self, session: Session, site: Site | None = None) -> Principal:
        if self._principal is None:
            self._principal = principals.resolve(
                session,
                authorization=self.request.headers.get("authorization"),
                cookie_token=self.request.cookies.get(SESSION_COOKIE),
                site=site if site is not None else self._site,
                now=self.now,
            )
            self.check_csrf(self._principal)
        return self._principal

    def check_csrf(self, principal: Principal) -> None:
        """Cookie-authenticated writes need the session's CSRF token in a header.

        Bearer tokens are not sent by browsers on their own, so they need no CSRF token.
        """
        if principal.via != "cookie" or self.request.method not in _UNSAFE:
            return
        sent = self.request.headers.get(CSRF_HEADER)
        if not sent or principal.csrf_token is None or not _equal(sent, principal.csrf_token):
            raise CsrfFailed()

    def url(self, path: str) -> str:
        return self.settings.public_url.rstrip("/") + path

    def set_session_cookie(self, response: Response, token: str) -> None:
        """The session cookie as every login sets it (API, workspace, a guest's first comment)."""
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.settings.session_days * 86400,
            httponly=True,
            samesite="lax",
            secure=self.settings.secure_cookies,
            path="/",
        )


def _equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def get_context(request: Request) -> RequestContext:
    ctx: Any = getattr(request.state, "parley_ctx", None)
    if ctx is None:
        ctx = RequestContext(request, request.app.state.registry)
        request.state.parley_ctx = ctx
    return ctx  # type: ignore[no-any-return]


async def context(request: Request) -> RequestContext:
    """:func:`get_context` as a FastAPI dependency. Being ``async`` (it does no I/O) spares every
    request a trip to the thread pool and back: FastAPI runs plain functions there, dependencies
    included."""
    return get_context(request)
