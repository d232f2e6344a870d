"""The demo article page at ``/``: the seed article as a plain news page with its comments."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from parley.comments import queries
from parley.comments.queries import Sort
from parley.comments.threads import find_thread
from parley.demo.services import demo_data
from parley.sites.errors import SiteNotFound
from parley.web.context import get_context
from parley.web.templates import render


def render_demo_page(request: Request) -> Response:
    ctx = get_context(request)
    data = demo_data()
    comments: list[dict[str, Any]] = []
    count = 0
    with ctx.registry.db.read() as session:
        try:
            site = ctx.site_cache.by_slug(session, data["site"]["slug"])
        except SiteNotFound:
            site = None
        thread = find_thread(session, site.id, data["thread"]["key"]) if site else None
        if thread is not None:
            count = thread.comment_count
            top, _ = queries.top_level_page(
                session, thread.id, sort=Sort.OLDEST, limit=200, cursor=None, secret=ctx.settings.secret
            )
            replies = queries.first_replies(session, [r.id for r in top], 50)
            for r in top:
                item = queries.serialize(r)
                item["replies"] = [queries.serialize(x) for x in replies if x.root_id == r.id]
                comments.append(item)
    return render(
        "demo.html",
        data=data,
        comments=comments,
        count=count,
        loaded=thread is not None,
        thread_key=data["thread"]["key"],
    )
