"""Pages and probes: the demo article page at ``/``, health and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from parley.web import demo
from parley.web.responses import JSONResponse

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Ready when the database answers and, with ``redis_url`` set, Redis too (503 otherwise), so a
    load balancer takes an instance out while what it needs is down. ``/healthz`` only says the
    process is up."""
    registry = request.app.state.registry
    checks: dict[str, str] = {}
    try:
        with registry.db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "up"
    except Exception:
        checks["database"] = "down"
    if registry.settings.redis_url:
        checks["redis"] = "up" if _redis_up(registry) else "down"
    ok = all(v == "up" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", **checks},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )


def _redis_up(registry: Any) -> bool:
    import redis

    from parley.cache.redis import RedisCache

    if isinstance(registry.cache, RedisCache):
        return registry.cache.ping()
    client = registry.extras.get("readyz_redis")
    if client is None:
        client = redis.Redis.from_url(
            registry.settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        registry.extras["readyz_redis"] = client
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The demo article page (HEAD too: uptime checks and link checkers ask before they fetch)."""
    return demo.render_demo_page(request)


def includeme(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("parley.web", "static")]), name="static")
