"""The route table is pinned: adding, removing or renaming a route (or a method on it) makes this
test fail until the table below is updated in the same change, so nothing changes by accident.

Update it with the listing this test prints when it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount

EXPECTED: list[tuple[str, str]] = [
    ("GET", "/"),
    ("GET", "/account/confirm"),
    ("POST", "/account/confirm"),
    ("GET", "/api/v1/admin/sites"),
    ("POST", "/api/v1/admin/sites"),
    ("GET", "/api/v1/admin/sites/{slug}"),
    ("PATCH", "/api/v1/admin/sites/{slug}"),
    ("GET", "/api/v1/admin/sites/{slug}/threads/{key:path}"),
    ("PATCH", "/api/v1/admin/sites/{slug}/threads/{key:path}"),
    ("POST", "/api/v1/admin/sites/{slug}/threads/{key:path}/close"),
    ("POST", "/api/v1/admin/sites/{slug}/threads/{key:path}/open"),
    ("GET", "/api/v1/admin/sites/{slug}/webhooks"),
    ("POST", "/api/v1/admin/sites/{slug}/webhooks"),
    ("DELETE", "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}"),
    ("GET", "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/deliveries"),
    ("POST", "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/enable"),
    ("POST", "/api/v1/admin/sites/{slug}/webhooks/{webhook_id}/test"),
    ("POST", "/api/v1/auth/confirm"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/sso"),
    ("DELETE", "/api/v1/comments/{comment_id}"),
    ("GET", "/api/v1/comments/{comment_id}"),
    ("PATCH", "/api/v1/comments/{comment_id}"),
    ("GET", "/api/v1/comments/{comment_id}/replies"),
    ("POST", "/api/v1/comments/{comment_id}/reports"),
    ("PUT", "/api/v1/comments/{comment_id}/vote"),
    ("GET", "/api/v1/counts"),
    ("GET", "/api/v1/docs"),
    ("DELETE", "/api/v1/me"),
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/me/export"),
    ("GET", "/api/v1/me/notification-settings"),
    ("PUT", "/api/v1/me/notification-settings"),
    ("GET", "/api/v1/me/notifications"),
    ("POST", "/api/v1/me/notifications/read"),
    ("GET", "/api/v1/me/reports"),
    ("GET", "/api/v1/me/sanctions"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/statements/{token}"),
    ("GET", "/api/v1/statements/{token}/appeal"),
    ("POST", "/api/v1/statements/{token}/appeal"),
    ("GET", "/api/v1/threads/{thread_key:path}/comments"),
    ("POST", "/api/v1/threads/{thread_key:path}/comments"),
    ("GET", "/api/v1/threads/{thread_key:path}/events"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/embed.js"),
    ("GET", "/embed.{digest}.js"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/moderate"),
    ("POST", "/moderate/appeals/{appeal_id}/decide"),
    ("GET", "/moderate/audit"),
    ("GET", "/moderate/audit/export.{fmt}"),
    ("GET", "/moderate/authors/{account_id}"),
    ("POST", "/moderate/authors/{account_id}/sanction"),
    ("POST", "/moderate/bulk"),
    ("GET", "/moderate/comments/{comment_id}"),
    ("POST", "/moderate/comments/{comment_id}/approve"),
    ("POST", "/moderate/comments/{comment_id}/feature"),
    ("POST", "/moderate/comments/{comment_id}/reject"),
    ("GET", "/moderate/health"),
    ("GET", "/moderate/login"),
    ("POST", "/moderate/login"),
    ("POST", "/moderate/logout"),
    ("GET", "/moderate/queue/{name}"),
    ("GET", "/moderate/settings"),
    ("POST", "/moderate/settings/{slug}/cta"),
    ("POST", "/moderate/settings/{slug}/guests"),
    ("POST", "/moderate/settings/{slug}/terms"),
    ("POST", "/moderate/settings/{slug}/thresholds"),
    ("POST", "/moderate/settings/{slug}/try"),
    ("MOUNT", "/moderate/static"),
    ("GET", "/moderate/stories"),
    ("POST", "/moderate/stories/{thread_id}"),
    ("GET", "/moderate/transparency"),
    ("POST", "/moderate/undo"),
    ("GET", "/moderate/users"),
    ("POST", "/moderate/users/{slug}/reserved"),
    ("POST", "/moderate/users/{slug}/roles"),
    ("POST", "/moderate/users/{slug}/roles/{account_id}/remove"),
    ("POST", "/moderate/users/{slug}/verify/{account_id}"),
    ("POST", "/moderate/waves/{wave_id}/{action}"),
    ("GET", "/moderate/workload"),
    ("GET", "/notifications/unsubscribe"),
    ("POST", "/notifications/unsubscribe"),
    ("GET", "/readyz"),
    ("GET", "/statements/{token}"),
    ("POST", "/statements/{token}"),
    ("POST", "/statements/{token}/login"),
    ("MOUNT", "/static"),
]


def _walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield ("MOUNT", route.path)
        elif hasattr(route, "effective_route_contexts"):  # a router FastAPI included with a prefix
            for ctx in route.effective_route_contexts():
                for method in sorted(ctx.methods or {"WS"}):
                    yield (method, ctx.path)
        else:
            for method in sorted(getattr(route, "methods", None) or {"WS"}):
                yield (method, route.path)


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route; HEAD (implied by GET) left out."""
    return sorted({(m, p) for m, p in _walk(list(app.routes)) if m != "HEAD"}, key=lambda r: (r[1], r[0]))


def test_route_table_is_pinned(app: FastAPI) -> None:
    actual = route_table(app)
    if actual != EXPECTED:
        listing = "\n".join(f'    ("{m}", "{p}"),' for m, p in actual)
        added = sorted(set(actual) - set(EXPECTED))
        removed = sorted(set(EXPECTED) - set(actual))
        raise AssertionError(f"routes changed: added {added}, removed {removed}\nnew table:\n{listing}")


def test_every_api_route_is_in_the_openapi_document(app: FastAPI) -> None:
    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    api = {(m, p.replace(":path", "")) for m, p in route_table(app) if p.startswith("/api/v1/")}
    api -= {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs"), ("GET", "/api/v1/docs/oauth2-redirect")}
    assert api - documented == set(), "API routes missing from the schema"
    assert {d for d in documented if d[1].startswith("/api/v1/")} - api == set()
