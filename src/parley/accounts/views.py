"""HTTP views of the accounts domain: register (and confirm), login, logout, publisher SSO, me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response

from parley.accounts import confirmation, services, sso
from parley.accounts.models import Account
from parley.accounts.schemas import (
    ConfirmationSentOut,
    ConfirmIn,
    LoginIn,
    MeOut,
    MePatch,
    RegisterIn,
    SessionOut,
    SsoIn,
)
from parley.accounts.services import NewSession
from parley.errors import Unauthorized
from parley.ratelimit.guard import Action, enforce
from parley.web.context import SESSION_COOKIE, RequestContext, context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse

router = APIRouter(prefix="/api/v1", tags=["accounts"])
Ctx = Annotated[RequestContext, Depends(context)]
ERRORS = problem_responses(
    {
        401: "Not logged in, wrong credentials or a bad token",
        403: "CSRF token missing, or the account may not do this",
        409: "Name or e-mail taken",
        422: "Invalid fields",
        429: "Too many attempts (see Retry-After)",
    }
)
REGISTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ConfirmationSentOut,
        "description": "With e-mail confirmation on (registration_confirmation): a mail is on its way "
        "and no account exists yet. The same answer whether or not the address has an account.",
    },
    **ERRORS,
}
CONFIRM_ERRORS = problem_responses(
    {
        400: "The link is invalid, expired or used already (confirmation_invalid)",
        409: "Name or e-mail taken meanwhile",
        422: "Invalid fields",
    }
)


def account_out(account: Account, *, with_email: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": account.id,
        "name": account.display_name,
        "role": account.role,
        "kind": account.kind,
        "verified": account.verified,
        "status": account.status,
    }
    if with_email:
        out["email"] = account.email
    return out


def _session_response(ctx: RequestContext, account: Account, new: NewSession, status: int = 200) -> Response:
    body = {
        "account": account_out(account, with_email=True),
        "token": new.token,
        "csrf_token": new.csrf_token,
    }
    response = JSONResponse(body, status_code=status)
    ctx.set_session_cookie(response, new.token)
    return response


@router.post("/auth/register", status_code=201, response_model=SessionOut, responses=REGISTER_RESPONSES)
def register(ctx: Ctx, payload: RegisterIn) -> Response:
    """Create a local account (name, e-mail, password) and log in (201).

    With e-mail confirmation on, the answer is 202 ``{"status": "confirmation_sent"}`` instead, and
    the account is created by ``POST /auth/confirm`` with the token of the mailed link.
    """
    enforce(ctx, Action.REGISTER, email=payload.email)  # mails go to it: a cap per address too
    if ctx.settings.registration_confirms:
        with ctx.registry.db.write() as session:
            confirmation.do_request_registration(
                session,
                name=payload.name,
                email=payload.email,
                password=payload.password,
                now=ctx.now,
                site_id=ctx.site(session).id,
                locale=ctx.locale,
            )
        return JSONResponse({"status": "confirmation_sent"}, status_code=202)
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        account = services.do_create_account(
            session,
            name=payload.name,
            email=payload.email,
            password=payload.password,
            now=ctx.now,
            home_site_id=site.id,
        )
        new = services.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    return _session_response(ctx, account, new, 201)


@router.post("/auth/confirm", status_code=201, response_model=SessionOut, responses=CONFIRM_ERRORS)
def confirm(ctx: Ctx, payload: ConfirmIn) -> Response:
    """Confirm a sign-up with the token of the mailed link: creates the account and logs in."""
    with ctx.registry.db.write() as session:
        account = confirmation.do_confirm_registration(
            session, token=payload.token, secret=ctx.settings.secret, now=ctx.now
        )
        new = services.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    return _session_response(ctx, account, new, 201)


@router.post("/auth/login", response_model=SessionOut, responses=ERRORS)
def login(ctx: Ctx, payload: LoginIn) -> Response:
    """Log in with e-mail and password. A new session (and token) on every login."""
    enforce(ctx, Action.LOGIN, email=payload.email)  # before the password hash: a refusal is cheap
    with ctx.registry.db.write() as session:
        account = services.check_login(session, payload.email, payload.password)
        old = ctx.request.cookies.get(SESSION_COOKIE)
        if old:
            services.do_end_session(session, old)  # session rotation: never reuse a pre-login id
        new = services.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    return _session_response(ctx, account, new)


@router.post("/auth/sso", response_model=SessionOut, responses=ERRORS)
def sso_exchange(ctx: Ctx, payload: SsoIn) -> Response:
    """Exchange a publisher-signed JWT for a Parley session (single use when it carries a ``jti``)."""
    enforce(ctx, Action.SSO)
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        claims = sso.verify_token(site, payload.token, ctx.now)
        sso.do_consume_jti(session, site, claims)
        account = sso.do_link_sso_account(session, site, claims, ctx.now)
        new = services.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    return _session_response(ctx, account, new)


@router.post("/auth/logout", status_code=204, responses=ERRORS)
def logout(ctx: Ctx) -> Response:
    """End the current session (cookie or bearer token)."""
    with ctx.registry.db.write() as session:
        principal = ctx.principal(session)
        if principal.session_token:
            services.do_end_session(session, principal.session_token)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=ctx.settings.secure_cookies
    )
    return response


@router.get("/me", response_model=MeOut, responses=ERRORS)
def me(ctx: Ctx) -> Response:
    """The logged-in account, with the CSRF token cookie-authenticated writes must send."""
    with ctx.registry.db.read() as session:
        site = ctx.site(session)
        principal = ctx.principal(session, site)
        if principal.account_id is None:
            raise Unauthorized()
        account = session.get(Account, principal.account_id)
        if account is None:
            raise Unauthorized()
        out = account_out(account, with_email=True)
        out["csrf_token"] = principal.csrf_token
    return JSONResponse(out)


@router.patch("/me", response_model=MeOut, responses=ERRORS)
def update_me(ctx: Ctx, payload: MePatch) -> Response:
    """Change your display name (look-alikes of other names are refused)."""
    with ctx.registry.db.write() as session:
        site = ctx.site(session)
        principal = ctx.principal(session, site)
        account = session.get(Account, principal.account_id) if principal.account_id else None
        if account is None:
            raise Unauthorized()
        if payload.name is not None:
            services.do_rename(session, account, payload.name, ctx.now)
        out = account_out(account, with_email=True)
        out["csrf_token"] = principal.csrf_token
    return JSONResponse(out)


def includeme(app: FastAPI) -> None:
    from parley.accounts import pages

    app.include_router(router)
    app.include_router(pages.router)
