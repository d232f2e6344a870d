"""The author drawer: history, rejection rate, names and renames, look-alikes, sanctions — and the
sanction actions (warn, suspend, ban, always pre-moderate, lift)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path
from fastapi.responses import Response
from sqlalchemy import func, select

from parley.accounts.models import Account, NameChange
from parley.accounts.names import name_skeleton
from parley.comments.models import Comment
from parley.workspace import forms
from parley.workspace.access import require_moderator
from parley.workspace.models import SanctionKind
from parley.workspace.reasons import REASON_CODES, label_for
from parley.workspace.sanctions import access_author, do_lift, do_sanction, sanctions_of
from parley.workspace.views.common import Ctx, fragment, is_htmx, make_router, page

router = make_router()
AccountId = Annotated[int, Path(ge=1, le=2**53)]


def look_alikes(session: object, account: Account, limit: int = 10) -> list[Account]:
    """Accounts whose name reads almost the same: equal skeleton once digits and spaces are gone."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    skel = name_skeleton(account.display_name)
    if len(skel) < 3:
        return []
    prefix = skel[: max(3, len(skel) - 2)]
    candidates = session.scalars(
        select(Account)
        .where(
            Account.id != account.id,
            Account.name_skeleton.is_not(None),
            Account.name_skeleton.startswith(prefix, autoescape=True),
        )
        .limit(50)
    )
    out = []
    for other in candidates:
        other_skel = other.name_skeleton or ""
        if abs(len(other_skel) - len(skel)) <= 2:
            out.append(other)
    guests = session.scalars(
        select(Account)
        .where(
            Account.id != account.id, Account.kind == "guest", Account.display_name == account.display_name
        )
        .limit(5)
    )
    out.extend(guests)
    return out[:limit]


@router.get("/authors/{account_id}")
def author(ctx: Ctx, account_id: AccountId) -> Response:
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        account = access_author(session, moderator, account_id)
        scope = select(Comment.status, func.count(Comment.id)).where(Comment.author_id == account.id)
        if moderator.site_ids is not None:
            scope = scope.where(Comment.site_id.in_(sorted(moderator.site_ids)))
        counts = {status: int(n) for status, n in session.execute(scope.group_by(Comment.status))}
        decided = counts.get("published", 0) + counts.get("rejected", 0)
        rate = counts.get("rejected", 0) / decided if decided else 0.0
        recent_stmt = select(Comment).where(Comment.author_id == account.id)
        if moderator.site_ids is not None:
            recent_stmt = recent_stmt.where(Comment.site_id.in_(sorted(moderator.site_ids)))
        recent = list(session.scalars(recent_stmt.order_by(Comment.id.desc()).limit(10)))
        renames = list(
            session.scalars(
                select(NameChange)
                .where(NameChange.account_id == account.id)
                .order_by(NameChange.id.desc())
                .limit(20)
            )
        )
        context: dict[str, Any] = {
            "account": account,
            "counts": counts,
            "rejection_rate": rate,
            "recent": recent,
            "renames": renames,
            "look_alikes": look_alikes(session, account),
            "sanctions": sanctions_of(session, account.id, 50),
            "reject_codes": REASON_CODES,
            "label_for": label_for,
            "csrf_token": moderator.principal.csrf_token or "",
        }
        if is_htmx(ctx):
            return fragment(ctx, "_author.html", **context)
        return page(ctx, session, moderator, "author.html", active="", **context)


@router.post("/authors/{account_id}/sanction")
def sanction(
    ctx: Ctx,
    account_id: AccountId,
    kind: Annotated[str, Form(pattern="^(warning|suspension|ban|premoderate|lift)$")],
    reason_code: Annotated[str, Form(max_length=64)] = "other",
    note: Annotated[str, Form(max_length=4000)] = "",
    days: Annotated[int | None, Form(ge=1, le=365)] = None,
) -> Response:
    """Warn, suspend for N days, ban, always pre-moderate — or lift all restrictions."""
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        account = access_author(session, moderator, account_id)
        if kind == "lift":
            do_lift(session, moderator, account, note=forms.clean(note, "note"), now=ctx.now)
        else:
            do_sanction(
                session,
                moderator,
                account,
                SanctionKind(kind),
                reason_code=forms.clean(reason_code, "reason_code", 64),
                note=forms.clean(note, "note"),
                now=ctx.now,
                days=days,
            )
    response = fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)
    response.headers["HX-Refresh"] = "true"
    return response
