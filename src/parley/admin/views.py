"""Admin API: manage sites and threads with an admin's API token (or session)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.principal import Principal
from parley.admin.schemas import SiteAdminOut, SiteIn, SitePatch, ThreadAdminOut, ThreadPatch
from parley.audit.services import do_audit
from parley.comments import threads
from parley.comments.models import Thread, ThreadStatus
from parley.comments.queries import iso
from parley.errors import Forbidden, Unauthorized
from parley.sites import services as sites
from parley.sites.errors import SiteNotFound
from parley.sites.models import Site
from parley.web.context import RequestContext, context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Ctx = Annotated[RequestContext, Depends(context)]
Slug = Annotated[str, Path(max_length=64)]
Key = Annotated[str, Path(min_length=1, max_length=512)]
ERRORS = problem_responses(
    {
        401: "No credentials, or a bad token",
        403: "Not an admin, or a token bound to another site",
        404: "Not found",
        409: "Conflict (e.g. the slug exists)",
        422: "Invalid fields",
    }
)


def require_admin(ctx: RequestContext, session: Session) -> Principal:
    principal = ctx.principal(session)
    if not principal.is_authenticated:
        raise Unauthorized()
    if not principal.is_admin:
        raise Forbidden()
    return principal


def access_site(session: Session, principal: Principal, slug: str) -> Site:
    site = sites.get_site_by_slug(session, slug)
    if principal.token_site_id is not None and principal.token_site_id != site.id:
        raise SiteNotFound()  # a site-bound token does not learn that other sites exist
    return site


def site_out(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "slug": site.slug,
        "name": site.name,
        "allowed_origins": list(site.allowed_origins or []),
        "settings": site.policy().model_dump(mode="json"),
        "sso": {
            "hs256": bool(site.sso_secret),
            "rs256": bool(site.sso_public_key),
            "issuer": site.sso_issuer,
            "audience": site.sso_audience,
        },
    }


def thread_out(thread: Thread, ctx: RequestContext) -> dict[str, Any]:
    return {
        "id": thread.id,
        "key": thread.key,
        "title": thread.title,
        "url": thread.url,
        "status": threads.effective_status(thread, ctx.now),
        "stored_status": thread.status,
        "closes_at": iso(thread.closes_at),
        "comment_count": thread.comment_count,
        "settings": dict(thread.settings or {}),
    }


def _clear_site_cache(ctx: RequestContext) -> None:
    ctx.site_cache.clear()


@router.get("/sites", response_model=list[SiteAdminOut], responses=ERRORS)
def list_sites(ctx: Ctx) -> Response:
    with ctx.registry.db.read() as session:
        principal = require_admin(ctx, session)
        stmt = select(Site).order_by(Site.id)
        if principal.token_site_id is not None:
            stmt = stmt.where(Site.id == principal.token_site_id)
        return JSONResponse([site_out(s) for s in session.scalars(stmt)])


@router.post("/sites", status_code=201, response_model=SiteAdminOut, responses=ERRORS)
def create_site(ctx: Ctx, payload: SiteIn) -> Response:
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        if principal.token_site_id is not None:
            raise Forbidden()
        site = sites.do_create_site(
            session,
            slug=payload.slug,
            name=payload.name,
            now=ctx.now,
            allowed_origins=payload.allowed_origins,
            settings=payload.settings,
            sso_secret=payload.sso_secret,
            sso_public_key=payload.sso_public_key,
        )
        site.sso_issuer = payload.sso_issuer
        site.sso_audience = payload.sso_audience
        do_audit(
            session,
            action="site.created",
            object_type="site",
            object_id=site.id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
        )
        out = site_out(site)
    _clear_site_cache(ctx)
    return JSONResponse(out, status_code=201)


@router.get("/sites/{slug}", response_model=SiteAdminOut, responses=ERRORS)
def get_site(ctx: Ctx, slug: Slug) -> Response:
    with ctx.registry.db.read() as session:
        principal = require_admin(ctx, session)
        return JSONResponse(site_out(access_site(session, principal, slug)))


@router.patch("/sites/{slug}", response_model=SiteAdminOut, responses=ERRORS)
def update_site(ctx: Ctx, slug: Slug, payload: SitePatch) -> Response:
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        changed = sorted(payload.model_fields_set)
        if payload.name is not None:
            sites.check_site_input(site.slug, payload.name, [])
            site.name = payload.name.strip()
        if payload.allowed_origins is not None:
            site.allowed_origins = sites.check_site_input(site.slug, site.name, payload.allowed_origins)
        if payload.settings is not None:
            sites.do_update_site_settings(session, site, payload.settings)
        for field in ("sso_secret", "sso_public_key", "sso_issuer", "sso_audience"):
            if field in payload.model_fields_set:
                setattr(site, field, getattr(payload, field) or None)
        do_audit(
            session,
            action="site.updated",
            object_type="site",
            object_id=site.id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
            data={"fields": changed},
        )
        out = site_out(site)
    _clear_site_cache(ctx)
    return JSONResponse(out)


@router.post("/sites/{slug}/threads/{key:path}/close", response_model=ThreadAdminOut, responses=ERRORS)
def close_thread(ctx: Ctx, slug: Slug, key: Key) -> Response:
    return _set_status(ctx, slug, key, ThreadStatus.CLOSED)


@router.post("/sites/{slug}/threads/{key:path}/open", response_model=ThreadAdminOut, responses=ERRORS)
def open_thread(ctx: Ctx, slug: Slug, key: Key) -> Response:
    return _set_status(ctx, slug, key, ThreadStatus.OPEN)


def _set_status(ctx: RequestContext, slug: str, key: str, status: ThreadStatus) -> Response:
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        thread = threads.do_get_or_create_thread(session, site, key, ctx.now)
        threads.do_set_thread_status(session, thread, status, ctx.now)
        do_audit(
            session,
            action=f"thread.{status.value}",
            object_type="thread",
            object_id=thread.id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
        )
        return JSONResponse(thread_out(thread, ctx))


@router.get("/sites/{slug}/threads/{key:path}", response_model=ThreadAdminOut, responses=ERRORS)
def get_thread(ctx: Ctx, slug: Slug, key: Key) -> Response:
    with ctx.registry.db.read() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        return JSONResponse(thread_out(threads.access_thread(session, site, key), ctx))


@router.patch("/sites/{slug}/threads/{key:path}", response_model=ThreadAdminOut, responses=ERRORS)
def update_thread(ctx: Ctx, slug: Slug, key: Key, payload: ThreadPatch) -> Response:
    with ctx.registry.db.write() as session:
        principal = require_admin(ctx, session)
        site = access_site(session, principal, slug)
        thread = threads.do_get_or_create_thread(session, site, key, ctx.now)
        changes = payload.model_dump(exclude_unset=True, exclude={"status"})
        if payload.settings is not None:
            changes["settings"] = payload.settings.model_dump(exclude_unset=True)
        threads.do_update_thread(session, thread, changes)
        if payload.status is not None:
            threads.do_set_thread_status(session, thread, ThreadStatus(payload.status), ctx.now)
        do_audit(
            session,
            action="thread.updated",
            object_type="thread",
            object_id=thread.id,
            site_id=site.id,
            actor_kind="admin",
            actor_id=principal.account_id,
            now=ctx.now,
            data={"fields": sorted(payload.model_fields_set)},
        )
        return JSONResponse(thread_out(thread, ctx))


def includeme(app: FastAPI) -> None:
    app.include_router(router)
