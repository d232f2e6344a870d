"""Pages and probes: the demo article page at ``/``, health and readiness."""

from __future__ import annotations

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
    registry = request.app.state.registry
    try:
        with registry.db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The demo article page (HEAD too: uptime checks and link checkers ask before they fetch)."""
    return demo.render_demo_page(request)


def includeme(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("parley.web", "static")]), name="static")
