"""What every workspace view shares: the router class, the moderator, the locale, page rendering."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from parley import i18n
from parley.errors import AppError, Unauthorized
from parley.web.context import RequestContext, get_context
from parley.workspace import queues
from parley.workspace.access import Moderator, require_moderator, sites_of
from parley.workspace.rendering import render

LANG_COOKIE = "parley_lang"
Ctx = Annotated[RequestContext, Depends(get_context)]


class WorkspaceRoute(APIRoute):
    """Errors of a page navigation become an HTML page (or the login page when signed out);
    htmx requests and form posts keep the problem+json answer, which ``workspace.js`` shows."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except AppError as exc:
                if request.method != "GET" or request.headers.get("hx-request"):
                    raise
                if isinstance(exc, Unauthorized):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/moderate/login?next={quote(target)}", status_code=303)
                locale = workspace_locale(request)
                return render(
                    "error.html", locale=locale, status_code=exc.status, error=exc, headers=exc.headers
                )

        return handler


def make_router() -> APIRouter:
    return APIRouter(prefix="/moderate", include_in_schema=False, route_class=WorkspaceRoute)


def workspace_locale(request: Request) -> str:
    return i18n.negotiate(
        [request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)],
        request.headers.get("accept-language"),
    )


def is_htmx(ctx: RequestContext) -> bool:
    return bool(ctx.request.headers.get("hx-request"))


def page(
    ctx: RequestContext,
    session: Session,
    moderator: Moderator,
    template: str,
    *,
    active: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A full workspace page (navigation, queue sizes, CSRF token for htmx) or, for htmx, the part."""
    locale = workspace_locale(ctx.request)
    base: dict[str, Any] = {
        "moderator": moderator,
        "sites": sites_of(session, moderator),
        "csrf_token": moderator.principal.csrf_token or "",
        "active": active,
        "path": ctx.request.url.path,
        "query": dict(ctx.request.query_params),
        "urlencode": urlencode,
    }
    if not is_htmx(ctx):
        base["sizes"] = queues.queue_sizes(session, moderator)
    response = render(
        template, locale=locale, status_code=status_code, htmx=is_htmx(ctx), **{**base, **context}
    )
    lang = ctx.request.query_params.get("lang")
    if lang and i18n.normalize_locale(lang):
        response.set_cookie(
            LANG_COOKIE, i18n.normalize_locale(lang) or "", max_age=365 * 86400, samesite="lax"
        )
    return response


def fragment(ctx: RequestContext, template: str, **context: Any) -> Response:
    """A part of a page (htmx swaps it in)."""
    return render(template, locale=workspace_locale(ctx.request), htmx=True, **context)


def moderator_for(ctx: RequestContext, session: Session) -> Moderator:
    return require_moderator(ctx, session)


def int_param(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        n = int(value)
    except ValueError:
        return None
    return n if 1 <= n <= 2**53 else None
