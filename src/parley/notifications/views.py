"""HTTP views of notifications: the reader's list (the widget's badge), mail preferences, and the
signed one-click unsubscribe link."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from parley import i18n
from parley.errors import Unauthorized
from parley.notifications import services
from parley.notifications.models import Notification
from parley.notifications.schemas import (
    MarkReadIn,
    NotificationsOut,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)
from parley.web.context import RequestContext, get_context
from parley.web.problems import problem_responses
from parley.web.responses import JSONResponse

router = APIRouter(prefix="/api/v1", tags=["notifications"])
# outside /api/: mail clients POST ``List-Unsubscribe=One-Click`` as a form, which the API refuses
pages = APIRouter(tags=["notifications"])
Ctx = Annotated[RequestContext, Depends(get_context)]
ERRORS = problem_responses(
    {
        400: "Invalid unsubscribe link",
        401: "Not logged in",
        403: "CSRF token missing",
        422: "Invalid fields",
    }
)
_PAGE_TITLES = {"ask": "Unsubscribe from these e-mails", "done": "You are unsubscribed"}
_TEXTS = {
    "reply": "{author} replied to your comment.",
    "decision": "A moderator decision about your comment.",
    "appeal": "Your appeal was decided.",
    "report": "A moderator decided on a comment you reported.",
}


def _account_id(ctx: RequestContext, session: Any) -> int:
    principal = ctx.principal(session, ctx.site(session))
    if principal.account_id is None:
        raise Unauthorized()
    return principal.account_id


def item_out(item: Notification, locale: str, names: dict[int, str]) -> dict[str, Any]:
    """``names``: comment id → the name shown on it now (read live, so an erased author's name is
    not frozen into other people's notifications)."""
    data = dict(item.data or {})
    data["author_name"] = names.get(int(data.get("comment_id") or 0), "")
    text = i18n.gettext(locale, _TEXTS.get(item.kind, item.kind), {"author": data["author_name"]})
    return {
        "id": item.id,
        "kind": item.kind,
        "text": text,
        "data": data,
        "created_at": item.created_at.isoformat().replace("+00:00", "Z"),
        "read": item.read_at is not None,
    }


@router.get("/me/notifications", response_model=NotificationsOut, responses=ERRORS)
def list_mine(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
    unread: bool = False,
    before: Annotated[int | None, Query(ge=1, le=2**53)] = None,
) -> Response:
    """My notifications, newest first, and how many are unread (the badge)."""
    with ctx.registry.db.read() as session:
        account_id = _account_id(ctx, session)
        items = services.list_notifications(
            session, account_id, limit=limit, unread_only=unread, before=before
        )
        names = services.names_of_comments(session, [int(i.data.get("comment_id") or 0) for i in items])
        return JSONResponse(
            {
                "items": [item_out(i, ctx.locale, names) for i in items],
                "unread_count": services.unread_count(session, account_id),
            }
        )


@router.post("/me/notifications/read", response_model=UnreadOut, responses=ERRORS)
def mark_read(ctx: Ctx, payload: MarkReadIn) -> Response:
    """Mark notifications read (``ids``), or all of them."""
    with ctx.registry.db.write() as session:
        account_id = _account_id(ctx, session)
        services.do_mark_read(session, account_id, payload.ids, ctx.now)
        return JSONResponse({"unread_count": services.unread_count(session, account_id)})


def _prefs_out(prefs: Any) -> dict[str, Any]:
    return {
        "reply_emails": bool(prefs.reply_emails),
        "decision_emails": bool(prefs.decision_emails),
        "digest_emails": bool(prefs.digest_emails),
        "locale": prefs.locale,
    }


@router.get("/me/notification-settings", response_model=PreferencesOut, responses=ERRORS)
def get_preferences(ctx: Ctx) -> Response:
    """My mail preferences (reply mails are off until I switch them on)."""
    with ctx.registry.db.read() as session:
        return JSONResponse(_prefs_out(services.preferences(session, _account_id(ctx, session))))


@router.put("/me/notification-settings", response_model=PreferencesOut, responses=ERRORS)
def put_preferences(ctx: Ctx, payload: PreferencesIn) -> Response:
    """Change my mail preferences (e.g. ``{"reply_emails": true}`` to be told about replies)."""
    with ctx.registry.db.write() as session:
        account_id = _account_id(ctx, session)
        prefs = services.do_set_preferences(
            session, account_id, payload.model_dump(exclude_unset=True), ctx.now
        )
        return JSONResponse(_prefs_out(prefs))


def _page(locale: str, title: str, body: str) -> str:
    """A minimal page; ``title`` is a msgid from :data:`_PAGE_TITLES`."""
    t = html.escape(i18n.gettext(locale, _PAGE_TITLES[title]))
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{t}</title></head>'
        f"<body><h1>{t}</h1>{body}</body></html>"
    )


UnsubA = Annotated[int, Query(alias="a", ge=1, le=2**53)]
UnsubK = Annotated[str, Query(alias="k", max_length=16)]
UnsubS = Annotated[str, Query(alias="s", max_length=64)]


@pages.get("/notifications/unsubscribe", response_class=HTMLResponse, responses=ERRORS)
def unsubscribe_page(ctx: Ctx, a: UnsubA, k: UnsubK, s: UnsubS) -> Response:
    """The page behind the link in a mail: one button. (A GET never unsubscribes, RFC 8058: link
    scanners in mail systems open links.)"""
    services.check_unsubscribe(ctx.settings.secret, a, k, s)
    loc = ctx.locale
    question = html.escape(i18n.gettext(loc, "Stop these e-mails?"))
    button = html.escape(i18n.gettext(loc, "Unsubscribe"))
    action = html.escape(f"?a={a}&k={k}&s={s}")
    form = (
        f'<p>{question}</p><form method="post" action="{action}">'
        f'<button type="submit">{button}</button></form>'
    )
    return HTMLResponse(_page(loc, "ask", form))


@pages.post("/notifications/unsubscribe", response_class=HTMLResponse, responses=ERRORS)
def unsubscribe(ctx: Ctx, a: UnsubA, k: UnsubK, s: UnsubS) -> Response:
    """One-click unsubscribe (the form above, and mail clients' ``List-Unsubscribe-Post``)."""
    services.check_unsubscribe(ctx.settings.secret, a, k, s)
    with ctx.registry.db.write() as session:
        services.do_unsubscribe(session, a, k, ctx.now)
    done = html.escape(i18n.gettext(ctx.locale, "You will not get these e-mails any more."))
    return HTMLResponse(_page(ctx.locale, "done", f"<p>{done}</p>"))


def includeme(app: FastAPI) -> None:
    import parley.notifications.jobs  # noqa: F401 (registers the mail job handler)

    app.include_router(router)
    app.include_router(pages)
