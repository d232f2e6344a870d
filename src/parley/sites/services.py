"""Use cases of the sites domain."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.errors import ValidationFailed
from parley.sites.errors import SiteExists, SiteNotFound
from parley.sites.models import Site
from parley.sites.policy import SiteSettings

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def normalize_origin(origin: str) -> str | None:
    """``https://Example.com:443/x`` → ``https://example.com``; None when it is no http(s) origin."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port if parts.port not in (None, 80 if parts.scheme == "http" else 443) else None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def get_site_by_slug(session: Session, slug: str) -> Site:
    # a slug from a query parameter or header can be anything: what cannot be a slug is not looked up
    # (PostgreSQL would refuse a NUL in it with an error, not with "no such site")
    site = session.scalar(select(Site).where(Site.slug == slug)) if SLUG_RE.match(slug) else None
    if site is None:
        raise SiteNotFound(context={"slug": slug})
    return site


def find_site_by_origin(session: Session, origin: str) -> Site | None:
    wanted = normalize_origin(origin)
    if wanted is None:
        return None
    for site in session.scalars(select(Site).order_by(Site.id)):
        if wanted in (site.allowed_origins or []):
            return site
    return None


def check_site_input(slug: str, name: str, origins: list[str]) -> list[str]:
    errors = []
    if not SLUG_RE.match(slug):
        errors.append({"field": "slug", "code": "invalid", "message": "lowercase letters, digits, dashes"})
    if not name.strip() or len(name) > 200:
        errors.append({"field": "name", "code": "invalid", "message": "1 to 200 characters"})
    normalized = []
    for o in origins:
        n = normalize_origin(o)
        if n is None:
            errors.append(
                {"field": "allowed_origins", "code": "invalid", "message": f"not an origin: {o[:80]}"}
            )
        else:
            normalized.append(n)
    if errors:
        raise ValidationFailed(errors)
    return normalized


def check_site_settings(data: dict[str, Any]) -> SiteSettings:
    """Validate a site's settings; invalid ones are the client's error (422), never a 500."""
    try:
        return SiteSettings.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            [
                {
                    "field": ".".join(["settings", *(str(p) for p in err.get("loc", ()))]),
                    "code": str(err.get("type", "invalid")),
                    "message": str(err.get("msg", "invalid value"))[:300],
                }
                for err in exc.errors()[:50]
            ]
        ) from None


def do_create_site(
    session: Session,
    *,
    slug: str,
    name: str,
    now: datetime,
    allowed_origins: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    sso_secret: str | None = None,
    sso_public_key: str | None = None,
) -> Site:
    origins = check_site_input(slug, name, allowed_origins or [])
    if session.scalar(select(Site.id).where(Site.slug == slug)) is not None:
        raise SiteExists(context={"slug": slug})
    policy = check_site_settings(settings or {})
    site = Site(
        slug=slug,
        name=name.strip(),
        allowed_origins=origins,
        settings=policy.model_dump(mode="json", exclude_defaults=True),
        sso_secret=sso_secret,
        sso_public_key=sso_public_key,
        created_at=now,
    )
    session.add(site)
    session.flush()
    return site


def do_update_site_settings(session: Session, site: Site, changes: dict[str, Any]) -> SiteSettings:
    """Merge ``changes`` into the site's settings (validated as a whole)."""
    merged = _deep_merge(dict(site.settings or {}), changes)
    policy = check_site_settings(merged)
    site.settings = policy.model_dump(mode="json", exclude_defaults=True)
    session.flush()
    return policy


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(dict(base[key]), value)
        else:
            base[key] = value
    return base
