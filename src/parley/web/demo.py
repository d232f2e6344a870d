"""The demo article page at ``/``: the seed article as a plain news page that embeds the widget with
one script tag, exactly as a publisher would. The comments come from the widget, not from here."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime, get_timezone
from fastapi import Request
from starlette.responses import Response

from parley.comments.threads import find_thread
from parley.demo.services import demo_data
from parley.sites.errors import SiteNotFound
from parley.web.context import get_context
from parley.web.templates import render


def render_demo_page(request: Request) -> Response:
    ctx = get_context(request)
    data = demo_data()
    with ctx.registry.db.read() as session:
        try:
            site = ctx.site_cache.by_slug(session, data["site"]["slug"])
        except SiteNotFound:
            site = None
        loaded = site is not None and find_thread(session, site.id, data["thread"]["key"]) is not None
    published = datetime.fromisoformat(data["thread"]["published"].replace("Z", "+00:00"))
    return render(
        "demo.html",
        data=data,
        loaded=loaded,
        thread_key=data["thread"]["key"],
        site_slug=data["site"]["slug"],
        published_iso=data["thread"]["published"],
        published=format_datetime(
            published, "d. MMMM y, HH:mm", tzinfo=get_timezone("Europe/Vienna"), locale="de"
        ),
    )
