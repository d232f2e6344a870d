"""The page behind the link in a confirmation mail (``/account/confirm?token=…``).

``GET`` only shows a button: mail systems' link scanners open links, so opening one must not
create the account. The button's form ``POST`` does (outside ``/api/``, which takes JSON only), from
our own origin only (``check_same_origin``, as every form of the workspace and the statement page).
The token in the form is the proof; no session is involved, and none is made: the page says to go
back to the article and log in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response

from parley import i18n
from parley.accounts import confirmation
from parley.accounts.errors import ConfirmationInvalid
from parley.errors import AppError
from parley.web.context import RequestContext, get_context
from parley.web.inputs import has_unstorable
from parley.web.templates import render
from parley.workspace import forms

router = APIRouter(tags=["accounts"], include_in_schema=False)
Ctx = Annotated[RequestContext, Depends(get_context)]
TokenQuery = Annotated[str, Query(max_length=200)]
TokenForm = Annotated[str, Form(max_length=200)]
_PAGE_TITLES = {
    "ask": "Confirm your sign-up",
    "done": "Your account is ready",
    "failed": "The sign-up could not be confirmed",
}


def _page(
    ctx: RequestContext, state: str, *, token: str = "", link: str = "", message: str = "", status: int = 200
) -> Response:
    loc = ctx.locale
    texts = {
        "title": i18n.gettext(loc, _PAGE_TITLES[state]),
        "ask": i18n.gettext(loc, "Press the button to create your account."),
        "button": i18n.gettext(loc, "Create my account"),
        "done": i18n.gettext(loc, "Your account is confirmed. Go back to the article and log in."),
        "back": i18n.gettext(loc, "Back to the articles"),
    }
    return render(
        "account_confirm.html",
        status_code=status,
        headers={"Cache-Control": "no-store"},
        locale=loc,
        state=state,
        texts=texts,
        token=token,
        link=link or ctx.settings.public_url,
        message=message,
    )


def _failed(ctx: RequestContext, exc: AppError) -> Response:
    message = i18n.gettext(ctx.locale, exc.message, exc.params)
    return _page(ctx, "failed", message=message, status=exc.status)


@router.get("/account/confirm")
def confirm_page(ctx: Ctx, token: TokenQuery = "") -> Response:
    """Check the link (without using it) and show the button."""
    try:
        with ctx.registry.db.read() as session:
            if has_unstorable(token):
                raise ConfirmationInvalid()
            confirmation.access_pending(session, ctx.settings.secret, token, ctx.now)
    except AppError as exc:
        return _failed(ctx, exc)
    return _page(ctx, "ask", token=token)


@router.post("/account/confirm")
def confirm_form(ctx: Ctx, token: TokenForm = "") -> Response:
    """Create the account (the form above); the reader logs in on the article afterwards."""
    try:
        forms.check_same_origin(ctx)
        if has_unstorable(token):
            raise ConfirmationInvalid()
        with ctx.registry.db.write() as session:
            account = confirmation.do_confirm_registration(
                session, token=token, secret=ctx.settings.secret, now=ctx.now
            )
            link = confirmation.return_url(session, account.home_site_id, ctx.settings.public_url)
    except AppError as exc:
        return _failed(ctx, exc)
    return _page(ctx, "done", link=link)
