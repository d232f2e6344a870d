"""Statements of reasons and appeals over HTTP.

- ``GET /statements/{token}``: the page for the author (HTML), or the statement as JSON with
  ``Accept: application/json``. Anyone holding the unguessable link may read it; only the author
  sees their comment's text and may appeal.
- ``GET /api/v1/statements/{token}``: the JSON, for the widget (CORS like the rest of the API).
- ``POST /api/v1/statements/{token}/appeal`` (``appeal_url``): the author's appeal, ``{"text"}``,
  with their bearer token, or their session cookie plus ``X-CSRF-Token``.
- ``POST /statements/{token}``: the same from the page's HTML form (the form carries the session's
  CSRF token; the session cookie is ``SameSite=Lax`` and the Origin must be ours).
- ``POST /statements/{token}/login``: sign in on the page (local accounts), then back to it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Path
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from parley.accounts import principal as principals
from parley.accounts import services as accounts
from parley.accounts.errors import CsrfFailed, InvalidCredentials
from parley.accounts.principal import ANONYMOUS, Principal
from parley.appeals import services as appeals
from parley.appeals.models import Appeal
from parley.comments.models import Thread
from parley.errors import AppError, Unauthorized
from parley.ratelimit.guard import Action, enforce
from parley.statements import services
from parley.statements.schemas import AppealIn, AppealOut, StatementOut
from parley.web.context import SESSION_COOKIE, RequestContext, get_context
from parley.web.inputs import has_unstorable
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse
from parley.workspace import forms
from parley.workspace.rendering import render

router = APIRouter(tags=["statements"])
Ctx = Annotated[RequestContext, Depends(get_context)]
Token = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ERRORS = problem_responses({404: "No such statement"})
APPEAL_ERRORS = problem_responses(
    {
        401: "Not signed in",
        403: "Not the author, or the CSRF token is missing",
        404: "No such statement",
        409: "Appealed already, too late, or the decision was replaced",
        422: "Invalid fields",
    }
)


def _load(ctx: RequestContext, session: Session, token: str) -> tuple[services.StatementSource, str]:
    source = services.find_statement(session, token)
    return source, services.statement_locale(session, source, ctx.request.query_params.get("lang"))


def statement_json(
    ctx: RequestContext, session: Session, source: services.StatementSource, locale: str
) -> Any:
    return services.build_statement(
        session,
        source,
        locale,
        public_url=ctx.settings.public_url,
        window_days=ctx.settings.appeal_window_days,
    )


def appeal_out(ctx: RequestContext, appeal: Appeal, token: str) -> dict[str, Any]:
    return {
        "id": appeal.id,
        "status": appeal.status,
        "created_at": services.iso(appeal.created_at),
        "decided_at": services.iso(appeal.decided_at) if appeal.decided_at else None,
        "outcome_reason": appeal.outcome_reason,
        "statement_url": services.statement_url(ctx.settings.public_url, token),
    }


def _viewer(ctx: RequestContext, session: Session, source: services.StatementSource) -> Principal:
    """The reader of the page; a stale or foreign credential just means "not the author"."""
    try:
        return ctx.principal(session, source.site)
    except AppError:
        return ANONYMOUS


def _page(
    ctx: RequestContext,
    token: str,
    *,
    status: int = 200,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    with ctx.registry.db.read() as session:
        source, locale = _load(ctx, session, token)
        statement = statement_json(ctx, session, source, locale)
        viewer = _viewer(ctx, session, source)
        is_author = viewer.account_id is not None and viewer.account_id == source.author_id
        appeal = appeals.find_appeal(session, source)
        open_ = ctx.now <= services.deadline(source, ctx.settings.appeal_window_days)
        current = appeals.is_current(session, source)
        thread = session.get(Thread, source.comment.thread_id) if source.comment is not None else None
        return render(
            "statement.html",
            locale=locale,
            status_code=status,
            statement=statement,
            site_name=source.site.name if source.site else "Parley",
            thread=thread,
            comment_text=source.comment.body_text if (source.comment is not None and is_author) else None,
            is_author=is_author,
            signed_in=viewer.account_id is not None,
            csrf_token=viewer.csrf_token if viewer.via == "cookie" else None,
            appeal=appeal,
            may_appeal=is_author and appeal is None and open_ and current,
            window_open=open_,
            current=current,
            token=token,
            message=message,
            headers=headers,
            note=(
                source.decision.note if source.decision else source.sanction.note if source.sanction else None
            ),
        )


@router.get("/statements/{token}", include_in_schema=False)
def statement_page(ctx: Ctx, token: Token) -> Response:
    accept = ctx.request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        with ctx.registry.db.read() as session:
            source, locale = _load(ctx, session, token)
            return JSONResponse(statement_json(ctx, session, source, locale), headers={"Vary": "Accept"})
    return _page(ctx, token)


@router.get("/api/v1/statements/{token}", response_model=StatementOut, responses=ERRORS)
def get_statement(ctx: Ctx, token: Token) -> Response:
    """A statement of reasons in the author's language (``?lang=de|en`` to choose)."""
    with ctx.registry.db.read() as session:
        source, locale = _load(ctx, session, token)
        return JSONResponse(statement_json(ctx, session, source, locale))


def _file_appeal(
    ctx: RequestContext, session: Session, token: str, principal: Principal, text: str
) -> Appeal:
    source = services.find_statement(session, token)
    if principal.account_id is None:
        raise Unauthorized()
    enforce(ctx, Action.APPEAL, account=principal.account_id)
    return appeals.do_appeal(
        session, source, principal.account_id, text, ctx.now, ctx.settings.appeal_window_days
    )


@router.post(
    "/api/v1/statements/{token}/appeal", status_code=201, response_model=AppealOut, responses=APPEAL_ERRORS
)
def post_appeal(ctx: Ctx, token: Token, payload: AppealIn) -> Response:
    """Appeal the decision (author only, once, within the deadline). A person decides it."""
    with ctx.registry.db.write() as session:
        source = services.find_statement(session, token)
        principal = ctx.principal(session, source.site)
        appeal = _file_appeal(ctx, session, token, principal, payload.text)
        out = appeal_out(ctx, appeal, token)
    return JSONResponse(out, status_code=201)


@router.get("/api/v1/statements/{token}/appeal", response_model=AppealOut, responses=APPEAL_ERRORS)
def get_appeal(ctx: Ctx, token: Token) -> Response:
    """Your appeal of this decision and its outcome (author only; 404 when there is none)."""
    from parley.appeals.errors import AppealNotAuthor
    from parley.errors import NotFound

    with ctx.registry.db.read() as session:
        source = services.find_statement(session, token)
        principal = ctx.principal(session, source.site)
        if principal.account_id is None:
            raise Unauthorized()
        if principal.account_id != source.author_id:
            raise AppealNotAuthor()
        appeal = appeals.find_appeal(session, source)
        if appeal is None:
            raise NotFound()
        return JSONResponse(appeal_out(ctx, appeal, token))


@router.post("/statements/{token}", include_in_schema=False)
def post_appeal_form(
    ctx: Ctx,
    token: Token,
    text: Annotated[str, Form(max_length=5000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The page's appeal form (works without JavaScript)."""
    forms.check_same_origin(ctx)
    if has_unstorable(text) or has_unstorable(csrf_token):
        return _page(ctx, token, status=422, message="The text contains characters that cannot be stored.")
    try:
        with ctx.registry.db.write() as session:
            source = services.find_statement(session, token)
            principal = principals.resolve(
                session,
                authorization=None,
                cookie_token=ctx.request.cookies.get(SESSION_COOKIE),
                site=source.site,
                now=ctx.now,
            )
            if principal.csrf_token is None or not forms.same_secret(csrf_token, principal.csrf_token):
                raise CsrfFailed()
            _file_appeal(ctx, session, token, principal, text)
    except AppError as exc:
        return _page(ctx, token, status=exc.status, message=exc.message, headers=exc.headers)
    return RedirectResponse(f"/statements/{token}?appealed=1", status_code=303)


@router.post("/statements/{token}/login", include_in_schema=False)
def statement_login(
    ctx: Ctx,
    token: Token,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Sign in on the statement page with e-mail and password (a new session, as on any login)."""
    forms.check_same_origin(ctx)
    try:
        with ctx.registry.db.write() as session:
            services.find_statement(session, token)
            if has_unstorable(email) or has_unstorable(password):
                raise InvalidCredentials()
            enforce(ctx, Action.LOGIN, email=email)
            account = accounts.check_login(session, email, password)
            old = ctx.request.cookies.get(SESSION_COOKIE)
            if old:
                accounts.do_end_session(session, old)
            new = accounts.do_create_session(session, account, ctx.now, ctx.settings.session_days)
    except AppError as exc:
        return _page(ctx, token, status=exc.status, message=exc.message, headers=exc.headers)
    response = RedirectResponse(f"/statements/{token}", status_code=303)
    ctx.set_session_cookie(response, new.token)
    return response


def includeme(app: FastAPI) -> None:
    app.include_router(router)
