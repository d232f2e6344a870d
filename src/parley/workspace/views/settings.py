"""Site settings: term lists with the "would this be caught, and why?" box (the real pipeline),
classifier thresholds, guest policy and the call to action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Query
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from parley.audit.services import do_audit
from parley.comments import rendering
from parley.errors import AppError, ValidationFailed
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.messages import render_reason
from parley.moderation.policy import ModerationPolicy
from parley.sites.models import Site
from parley.sites.services import do_update_site_settings
from parley.web.context import RequestContext
from parley.workspace import forms
from parley.workspace.access import Moderator, access_site_by_slug, require_moderator, sites_of
from parley.workspace.cards import highlight
from parley.workspace.views.common import Ctx, fragment, make_router, page, workspace_locale

router = make_router()
Slug = Annotated[str, Path(max_length=64)]


def _site(session: Any, moderator: Moderator, slug: str | None) -> Site:
    if slug:
        return access_site_by_slug(session, moderator, slug)
    sites = sites_of(session, moderator)
    if not sites:
        from parley.errors import NotFound

        raise NotFound()
    return sites[0]


@router.get("/settings")
def settings_page(ctx: Ctx, site: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        row = _site(session, moderator, site)
        return page(
            ctx,
            session,
            moderator,
            "settings.html",
            active="settings",
            site=row,
            policy=row.policy(),
            may_administer=moderator.may_administer(row.id),
        )


def _save(ctx: Ctx, slug: str, changes: dict[str, Any], what: str, admin: bool) -> Response:
    with ctx.registry.db.write() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        if admin:
            moderator.check_admin(site.id)
        do_update_site_settings(session, site, changes)
        do_audit(
            session,
            action="site.settings",
            object_type="site",
            object_id=site.id,
            site_id=site.id,
            actor_kind="moderator",
            actor_id=moderator.account_id,
            now=ctx.now,
            data={"part": what},
        )
    ctx.site_cache.clear()
    return fragment(ctx, "_done.html", message="Saved.", count=1, comment_id=None)


@router.post("/settings/{slug}/terms")
def save_terms(
    ctx: Ctx,
    slug: Slug,
    banned: Annotated[str, Form(max_length=500_000)] = "",
    suspect: Annotated[str, Form(max_length=500_000)] = "",
) -> Response:
    terms = {"banned": forms.lines(banned, "banned"), "suspect": forms.lines(suspect, "suspect")}
    return _save(ctx, slug, {"moderation": {"terms": terms}}, "terms", admin=False)


@router.post("/settings/{slug}/thresholds")
def save_thresholds(
    ctx: Ctx,
    slug: Slug,
    hold_threshold: Annotated[float, Form(ge=0, le=1)] = 0.9,
    reject_threshold: Annotated[str, Form(max_length=10)] = "",
    requeue_after: Annotated[int, Form(ge=0, le=10_000)] = 3,
    premoderate_all: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    reject: float | None = None
    if reject_threshold.strip():
        try:
            reject = float(reject_threshold)
        except ValueError:
            raise ValidationFailed(
                [{"field": "reject_threshold", "code": "invalid", "message": "0 to 1"}]
            ) from None
    changes = {
        "moderation": {
            "classifier": {"hold_threshold": hold_threshold, "reject_threshold": reject},
            "reports": {"requeue_after": requeue_after},
            "premoderate_all": premoderate_all == "on",
        }
    }
    return _save(ctx, slug, changes, "thresholds", admin=True)


@router.post("/settings/{slug}/guests")
def save_guests(ctx: Ctx, slug: Slug, guests_allowed: Annotated[str, Form(max_length=3)] = "") -> Response:
    return _save(ctx, slug, {"guests_allowed": guests_allowed == "on"}, "guests", admin=True)


@router.post("/settings/{slug}/cta")
def save_cta(
    ctx: Ctx,
    slug: Slug,
    title: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=1000)] = "",
    link: Annotated[str, Form(max_length=2000)] = "",
    button: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    values = {k: forms.clean(v, k) for k, v in {"title": title, "text": text, "button": button}.items()}
    cta: dict[str, Any] | None = {**values, "link": forms.clean(link, "link") or None}
    if cta is not None and not any(cta.values()):
        cta = None
    return _save(ctx, slug, {"cta": cta}, "cta", admin=True)


@router.post("/settings/{slug}/try")
def try_text(
    ctx: Ctx,
    slug: Slug,
    text: Annotated[str, Form(max_length=20_000)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    banned: Annotated[str | None, Form(max_length=500_000)] = None,
    suspect: Annotated[str | None, Form(max_length=500_000)] = None,
) -> Response:
    """Run the site's real pipeline on a text (with the term lists as typed, saved or not).

    Nothing is stored and nothing counts toward rate limits or the copy index.
    """
    text = forms.clean(text, "text", 20_000)
    name = forms.clean(name, "name", 200) or "Testleser"
    with ctx.registry.db.read() as session:
        moderator = require_moderator(ctx, session)
        site = access_site_by_slug(session, moderator, slug)
        settings = site.policy()
    policy: ModerationPolicy = settings.moderation
    error = None
    if banned is not None or suspect is not None:
        try:
            terms = type(policy.terms).model_validate(
                {"banned": forms.lines(banned, "banned"), "suspect": forms.lines(suspect, "suspect")}
            )
            policy = policy.model_copy(update={"terms": terms})
        except PydanticValidationError as exc:
            error = str(exc.errors()[0].get("msg", "invalid term"))[:300]
    locale = workspace_locale(ctx.request)
    decision = None
    refusal = None
    body = None
    if text and error is None:
        try:
            body = rendering.render(rendering.normalize_source(text))
        except AppError as exc:
            error = exc.message
        if body is not None:
            with ctx.registry.db.read() as lookup:  # phases read the stores; nothing is written
                decision = ctx.registry.pipeline.run(_try_context(ctx, site, policy, body, name, lookup))
            refusal = decision.refusal
    return fragment(
        ctx,
        "_try_result.html",
        decision=decision,
        refusal=refusal,
        error=error,
        reasons=[(r, render_reason(r, locale)) for r in (decision.reasons if decision else ())],
        segments=highlight(body.text, decision.reasons) if (decision and body) else [],
    )


def _try_context(
    ctx: RequestContext, site: Any, policy: ModerationPolicy, body: Any, name: str, session: Session
) -> ModerationContext:
    return ModerationContext(
        text=body.text,
        source=body.source,
        html=body.html,
        links=body.links,
        author=AuthorInfo(account_id=None, name=name, is_guest=True),
        thread=ThreadInfo(id=None, key="workspace-try", site_id=site.id),
        policy=policy,
        now=ctx.now,
        site_slug=site.slug,
        site_name=site.name,
        backends=ctx.registry.backends_for(session),
        timed=False,
    )
