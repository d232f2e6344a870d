"""HTTP views of the workspace, one module per sub-resource; :func:`includeme` mounts them all."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from parley.workspace.views import authors, comments, insight, login, queues, settings, stories, users


def includeme(app: FastAPI) -> None:
    for module in (login, queues, comments, authors, stories, settings, users, insight):
        app.include_router(module.router)
    app.mount(
        "/moderate/static", StaticFiles(packages=[("parley.workspace", "static")]), name="workspace-static"
    )
