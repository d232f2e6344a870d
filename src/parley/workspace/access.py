"""Who may use the workspace, and on which sites.

A person may moderate a site when they are a global ``admin``, a global ``moderator`` (created by the
operator with ``parley users add --role moderator``), or hold a per-site role (``SiteRole``
``moderator`` or ``admin``) for it. Users and roles of a site are managed by global admins and the
site's ``admin``s. An object of a site one may not moderate is *not found* (404), never forbidden:
the workspace does not tell who else uses Parley.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.models import Role
from parley.accounts.principal import Principal
from parley.errors import Forbidden, NotFound, Unauthorized
from parley.sites.models import Site, SiteRole
from parley.sites.services import SLUG_RE
from parley.web.context import RequestContext

SITE_ROLES = ("moderator", "admin")


@dataclass(frozen=True, slots=True)
class Moderator:
    """A signed-in person allowed into the workspace. ``site_ids`` None: every site."""

    principal: Principal
    account_id: int
    site_ids: frozenset[int] | None
    admin_site_ids: frozenset[int] | None

    @property
    def name(self) -> str:
        return self.principal.name or ""

    def may_moderate(self, site_id: int | None) -> bool:
        return site_id is not None and (self.site_ids is None or site_id in self.site_ids)

    def may_administer(self, site_id: int) -> bool:
        return self.admin_site_ids is None or site_id in self.admin_site_ids

    def check_site(self, site_id: int | None) -> None:
        """Precondition for any object: it belongs to a site this person moderates (else 404)."""
        if not self.may_moderate(site_id):
            raise NotFound()

    def check_admin(self, site_id: int) -> None:
        self.check_site(site_id)
        if not self.may_administer(site_id):
            raise Forbidden()


def require_moderator(ctx: RequestContext, session: Session) -> Moderator:
    """The signed-in moderator, or 401 (nobody signed in) / 403 (not a moderator of any site).

    Also checks the CSRF token of cookie-authenticated writes (through ``ctx.principal``).
    """
    principal = ctx.principal(session)
    if principal.account_id is None:
        raise Unauthorized()
    if principal.status == "banned":
        raise Forbidden()
    if principal.role in (Role.ADMIN.value, Role.MODERATOR.value) and principal.token_site_id is None:
        admin_all = principal.role == Role.ADMIN.value
        admin_sites = None if admin_all else _role_sites(session, principal.account_id, ("admin",))
        return Moderator(principal, principal.account_id, None, admin_sites)
    site_ids = _role_sites(session, principal.account_id, SITE_ROLES)
    admin_ids = _role_sites(session, principal.account_id, ("admin",))
    if principal.token_site_id is not None:
        if principal.role == Role.ADMIN.value:
            site_ids = admin_ids = frozenset({principal.token_site_id})
        else:
            site_ids &= {principal.token_site_id}
            admin_ids &= {principal.token_site_id}
    if not site_ids:
        raise Forbidden()
    return Moderator(principal, principal.account_id, site_ids, admin_ids)


def _role_sites(session: Session, account_id: int, roles: tuple[str, ...]) -> frozenset[int]:
    rows = session.scalars(
        select(SiteRole.site_id).where(SiteRole.account_id == account_id, SiteRole.role.in_(roles))
    )
    return frozenset(int(r) for r in rows)


def sites_of(session: Session, moderator: Moderator) -> list[Site]:
    """The sites this person moderates, by name."""
    stmt = select(Site).order_by(Site.name, Site.id)
    if moderator.site_ids is not None:
        stmt = stmt.where(Site.id.in_(sorted(moderator.site_ids)))
    return list(session.scalars(stmt))


def access_site_by_slug(session: Session, moderator: Moderator, slug: str) -> Site:
    # a filter value can be anything; what cannot be a slug is not looked up (PostgreSQL refuses a
    # NUL in a compared value with an error, where SQLite finds nothing)
    site = session.scalar(select(Site).where(Site.slug == slug)) if SLUG_RE.match(slug) else None
    if site is None or not moderator.may_moderate(site.id):
        raise NotFound()
    return site
