"""Sign in to and out of the workspace (e-mail and password; a session cookie with a CSRF token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from parley.accounts import principal as principals
from parley.accounts import services as accounts
from parley.accounts.models import Role
from parley.errors import AppError
from parley.ratelimit.guard import Action, enforce
from parley.sites.models import SiteRole
from parley.web.context import SESSION_COOKIE
from parley.web.inputs import has_unstorable
from parley.workspace import forms
from parley.workspace.access import SITE_ROLES
from parley.workspace.rendering import render
from parley.workspace.views.common import Ctx, make_router, workspace_locale

router = make_router()
NOT_A_MODERATOR = "This account may not use the moderation workspace."


def safe_next(value: str | None) -> str:
    """Only paths inside the workspace (no open redirects)."""
    if value and value.startswith("/moderate") and not value.startswith("//") and "\\" not in value:
        return value
    return "/moderate"


@router.get("/login")
def login_page(ctx: Ctx, next: str | None = None) -> Response:
    return render(
        "login.html", locale=workspace_locale(ctx.request), next=safe_next(next), error=None, email=""
    )


@router.post("/login")
def login(
    ctx: Ctx,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/moderate",
) -> Response:
    """Check the password, then that the account moderates something; a fresh session either way."""
    locale = workspace_locale(ctx.request)
    try:
        forms.check_same_origin(ctx)
        if has_unstorable(email) or has_unstorable(password) or has_unstorable(next):
            raise AppError("E-mail address or password is wrong.", status=401)
        enforce(ctx, Action.LOGIN, email=email)
        with ctx.registry.db.write() as session:
            account = accounts.check_login(session, email, password)
            allowed = account.role in (Role.ADMIN.value, Role.MODERATOR.value) or session.scalar(
                select(SiteRole.id)
                .where(SiteRole.account_id == account.id, SiteRole.role.in_(SITE_ROLES))
                .limit(1)
            )
            if not allowed:
                raise AppError(NOT_A_MODERATOR, status=403)
            old = ctx.request.cookies.get(SESSION_COOKIE)
            if old:
                accounts.do_end_session(session, old)  # session rotation
            new = accounts.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    except AppError as exc:
        return render(
            "login.html",
            locale=locale,
            status_code=exc.status,
            next=safe_next(next),
            error=exc.message,
            email=email if not has_unstorable(email) else "",
            headers=exc.headers or None,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    ctx.set_session_cookie(response, new.token)
    return response


@router.post("/logout")
def logout(ctx: Ctx) -> Response:
    """End the session (htmx sends the CSRF token; a stale session just goes to the login page)."""
    with ctx.registry.db.write() as session:
        token = ctx.request.cookies.get(SESSION_COOKIE)
        if token:
            principal = principals.resolve(
                session, authorization=None, cookie_token=token, site=None, now=ctx.now
            )
            ctx.check_csrf(principal)
            accounts.do_end_session(session, token)
    response = Response(status_code=204, headers={"HX-Redirect": "/moderate/login"})
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=ctx.settings.secure_cookies
    )
    return response
