"""Users and roles of a site: moderators (assign by e-mail of an existing account), verified badges,
reserved names. Site admins and global admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from parley.accounts.models import Account
from parley.accounts.services import normalize_email
from parley.audit.services import do_audit
from parley.comments.threads import bump_author_threads
from parley.errors import Forbidden, NotFound, ValidationFailed
from parley.sites.models import SiteRole
from parley.sites.services import do_update_site_settings
from parley.workspace import forms
from parley.workspace.access import SITE_ROLES, access_site_by_slug, require_moderator, sites_of
from parley.workspace.sanctions import access_author
from parley.workspace.views.common import Ctx, fragment, make_router, page

router = make_router()
Slug = Annotated[str, Path(max_length=64)]
AccountId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/users")
def users_page(
    ctx: Ctx,
    site: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        candidates = [s for s in sites_of(session, moderator) if moderator.may_administer(s.id)]
        if site:
            row = access_site_by_slug(session, moderator, site)
            moderator.check_admin(row.id)
        elif candidates:
            row = candidates[0]
        else:
            raise Forbidden()
        roles = session.execute(
            select(SiteRole, Account)
            .join(Account, Account.id == SiteRole.account_id)
            .where(SiteRole.site_id == row.id)
            .order_by(Account.display_name)
        ).all()
        found: list[Account] = []
        query = forms.clean(q, "q", 200) if q else ""
        if query:
            try:
                found = list(
                    session.scalars(select(Account).where(Account.email_normalized == normalize_email(query)))
                )
            except ValidationFailed:
                found = list(
                    session.scalars(
                        select(Account)
                        .where(
                            Account.display_name.icontains(query, autoescape=True), Account.kind != "guest"
                        )
                        .limit(20)
                    )
                )
        return page(
            ctx,
            session,
            moderator,
            "users.html",
            active="users",
            site=row,
            roles=roles,
            found=found,
            q=query,
            admin_sites=candidates,
            policy=row.policy(),
        )


def _audit(
    ctx: Ctx,
    session: object,
    moderator_id: int,
    site_id: int,
    action: str,
    account_id: int | None,
    data: dict[str, object],
) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    do_audit(
        session,
        action=action,
        object_type="account" if account_id else "site",
        object_id=account_id or site_id,
        site_id=site_id,
        actor_kind="moderator",
        actor_id=moderator_id,
        now=ctx.now,
        data=data,
    )


@router.post("/users/{slug}/roles")
def assign_role(
    ctx: Ctx,
    slug: Slug,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(pattern="^(moderator|admin)$")] = "moderator",
) -> Response:
    """Make an existing account a moderator (or admin) of the site. They sign up first."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        moderator.check_admin(site.id)
        account = session.scalar(
            select(Account).where(
                Account.email_normalized == normalize_email(forms.clean(email, "email", 320))
            )
        )
        if account is None or account.kind == "guest":
            raise ValidationFailed(
                [{"field": "email", "code": "unknown", "message": "no account with this e-mail address"}]
            )
        existing = session.scalar(
            select(SiteRole).where(SiteRole.site_id == site.id, SiteRole.account_id == account.id)
        )
        if existing is None:
            session.add(SiteRole(site_id=site.id, account_id=account.id, role=role, created_at=ctx.now))
        else:
            existing.role = role
        session.flush()
        _audit(ctx, session, moderator.account_id, site.id, "role.assigned", account.id, {"role": role})
    response = fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/users/{slug}/roles/{account_id}/remove")
def remove_role(ctx: Ctx, slug: Slug, account_id: AccountId) -> Response:
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        moderator.check_admin(site.id)
        existing = session.scalar(
            select(SiteRole).where(SiteRole.site_id == site.id, SiteRole.account_id == account_id)
        )
        if existing is None or existing.role not in SITE_ROLES:
            raise NotFound()
        session.delete(existing)
        session.flush()
        _audit(ctx, session, moderator.account_id, site.id, "role.removed", account_id, {})
    response = fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/users/{slug}/verify/{account_id}")
def verify(
    ctx: Ctx, slug: Slug, account_id: AccountId, verified: Annotated[str, Form(max_length=3)] = "on"
) -> Response:
    """Give (or take) the verified badge of an account that writes on the site."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        moderator.check_admin(site.id)
        account = access_author(session, moderator, account_id)
        if account.kind == "guest":
            raise ValidationFailed(
                [{"field": "verified", "code": "guest", "message": "guests cannot be verified"}]
            )
        account.verified = verified == "on"
        session.flush()
        bump_author_threads(session, account.id)  # the badge shows on their comments
        _audit(
            ctx,
            session,
            moderator.account_id,
            site.id,
            "account.verified",
            account.id,
            {"verified": account.verified},
        )
    response = fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)
    response.headers["HX-Refresh"] = "true"
    return response


@router.post("/users/{slug}/reserved")
def reserved(ctx: Ctx, slug: Slug, names: Annotated[str, Form(max_length=100_000)] = "") -> Response:
    """The site's reserved names (nobody but staff may use them or look-alikes)."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        moderator.check_admin(site.id)
        do_update_site_settings(
            session, site, {"moderation": {"names": {"reserved": forms.lines(names, "names")}}}
        )
        _audit(ctx, session, moderator.account_id, site.id, "site.settings", None, {"part": "reserved_names"})
    ctx.site_cache.clear()
    return fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)
