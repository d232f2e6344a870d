"""The author's side: my sanctions and warnings, my reports and their outcome.

``GET /api/v1/me/sanctions`` shows an account everything moderators see of its standing (no shadow
bans); ``GET /api/v1/me/reports`` tells a reader what came of their notices (DSA Art. 16(5)).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from sqlalchemy import select

from parley import i18n
from parley.accounts.models import Account
from parley.comments.models import Report
from parley.errors import Unauthorized
from parley.statements.schemas import MyReportsOut, MySanctionsOut
from parley.statements.services import iso, statement_url
from parley.web.context import RequestContext, get_context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse
from parley.workspace.reasons import label_for
from parley.workspace.sanctions import sanctions_of

router = APIRouter(prefix="/api/v1/me", tags=["accounts"])
Ctx = Annotated[RequestContext, Depends(get_context)]
ERRORS = problem_responses({401: "Not signed in"})


def _account(ctx: RequestContext, session: object) -> Account:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    principal = ctx.principal(session, ctx.site(session))
    account = session.get(Account, principal.account_id) if principal.account_id else None
    if account is None:
        raise Unauthorized()
    return account


@router.get("/sanctions", response_model=MySanctionsOut, responses=ERRORS)
def my_sanctions(ctx: Ctx) -> Response:
    """Your account's standing (suspended, banned, always pre-moderated) and every warning and
    sanction with its reason and statement of reasons."""
    with ctx.registry.db.read() as session:
        account = _account(ctx, session)
        locale = i18n.negotiate([ctx.request.query_params.get("lang"), account.locale], None)
        items = [
            {
                "id": s.id,
                "kind": s.kind,
                "reason_code": s.reason_code,
                "reason": i18n.gettext(locale, label_for(s.reason_code)),
                "note": s.note,
                "until": iso(s.until) if s.until else None,
                "created_at": iso(s.created_at),
                "statement_url": statement_url(ctx.settings.public_url, s.statement_token)
                if s.statement_token
                else None,
            }
            for s in sanctions_of(session, account.id)
        ]
        return JSONResponse(
            {
                "status": account.status,
                "suspended_until": iso(account.suspended_until) if account.suspended_until else None,
                "always_premoderate": account.always_premoderate,
                "sanctions": items,
            }
        )


@router.get("/reports", response_model=MyReportsOut, responses=ERRORS)
def my_reports(ctx: Ctx) -> Response:
    """Your reports (notices) and their outcome: ``kept`` or ``removed`` once a moderator decided."""
    with ctx.registry.db.read() as session:
        account = _account(ctx, session)
        rows = session.scalars(
            select(Report).where(Report.reporter_id == account.id).order_by(Report.id.desc()).limit(200)
        )
        return JSONResponse(
            {
                "reports": [
                    {
                        "id": r.id,
                        "comment_id": r.comment_id,
                        "reason": r.reason,
                        "status": r.status,
                        "outcome": r.outcome,
                        "created_at": iso(r.created_at),
                        "resolved_at": iso(r.resolved_at) if r.resolved_at else None,
                    }
                    for r in rows
                ]
            }
        )


def includeme(app: FastAPI) -> None:
    app.include_router(router)
