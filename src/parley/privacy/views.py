"""HTTP views of privacy: ``GET /api/v1/me/export`` and ``DELETE /api/v1/me``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response

from parley.accounts.models import Account
from parley.errors import Unauthorized
from parley.privacy import erasure, export
from parley.web.context import SESSION_COOKIE, RequestContext, get_context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse

router = APIRouter(prefix="/api/v1", tags=["privacy"])
Ctx = Annotated[RequestContext, Depends(get_context)]
ERRORS = problem_responses({401: "Not logged in", 403: "CSRF token missing"})


def _account_id(ctx: RequestContext, session: Any) -> int:
    principal = ctx.principal(session, ctx.site(session))
    if principal.account_id is None or principal.via == "api_token":
        raise Unauthorized()
    if session.get(Account, principal.account_id) is None:
        raise Unauthorized()
    return principal.account_id


@router.get("/me/export", responses=ERRORS)
def export_me(ctx: Ctx) -> Response:
    """All data Parley holds about me, as a JSON download (GDPR Art. 15 and 20)."""
    with ctx.registry.db.read() as session:
        account_id = _account_id(ctx, session)
        data = export.collect(session, account_id, ctx.settings.public_url)
    if data is None:
        raise Unauthorized()
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="parley-data-{account_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/me", status_code=204, responses=ERRORS)
def erase_me(ctx: Ctx) -> Response:
    """Delete my account. My comments are anonymised or removed as the site configures; my votes
    are removed; I am logged out everywhere. This cannot be undone."""
    reg = ctx.registry
    with reg.db.write() as session:
        account_id = _account_id(ctx, session)
        erasure.do_erase_account(session, account_id, ctx.now, backends=reg.backends_for(session))
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=ctx.settings.secure_cookies
    )
    return response


def includeme(app: FastAPI) -> None:
    app.include_router(router)
