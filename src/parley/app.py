"""The application factory. Nothing happens at import: ``create_app(settings)`` builds it all.

Domains register themselves through an ``includeme(app)`` function, called in the order of
:data:`DOMAINS` (HTTP plumbing first, pages last, so API routes win over catch-alls).
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from parley import __version__
from parley.clock import Clock
from parley.config import Settings, load_settings
from parley.registry import Registry
from parley.web import problems
from parley.web.compression import CompressionMiddleware
from parley.web.frontcache import FrontCacheMiddleware
from parley.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from parley.web.responses import JSONResponse

_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}

DOMAINS: tuple[str, ...] = (
    "parley.accounts.views",
    "parley.comments.views",
    "parley.admin.views",
    "parley.webhooks.views",
    "parley.notifications.views",
    "parley.privacy.views",
    "parley.live.views",
    "parley.embed.views",
    "parley.statements.views",
    "parley.observability.views",
    "parley.appeals.views",
    "parley.workspace.views",
    "parley.web.views",
)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, freeze_heap: bool = False
) -> FastAPI:
    """The app. ``freeze_heap``: once started, move everything alive into the garbage collector's
    permanent generation (``gc.freeze``) and collect new objects every ``gc_young_threshold``
    allocations, as a served worker does (:func:`factory`)."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    registry = Registry.build(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if settings.jobs_in_process:
            from parley.jobs.recurring import do_ensure_recurring
            from parley.jobs.worker import Worker

            do_ensure_recurring(registry)
            worker = Worker(registry, settings.jobs_poll_seconds)
            worker.start()
            registry.extras["job_worker"] = worker
        if freeze_heap:
            # The modules, the app and the registry live as long as the process; without this, every
            # full collection walks their ~150,000 objects again: 100-200 ms in which no thread of
            # the worker runs (seen as the worst latency of cache hits while a big thread was built)
            gc.collect()
            gc.freeze()
            # Collections of the young generation every 700 allocations (Python's default) walked
            # the objects of every request in flight: 0.8 ms of a POST at 64 connections, and what
            # survived them made the full collections (~0.1 s each) come more often. A request's
            # objects are freed by reference counting; the collector is for the rare cycles.
            _, older, oldest = gc.get_threshold()
            gc.set_threshold(settings.gc_young_threshold, older, oldest)
        yield
        if worker is not None:
            worker.stop()
        registry.close()

    app = FastAPI(
        title="Parley",
        version=__version__,
        summary="Comments for news publishers, with moderation that tells authors why.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs" if settings.docs_enabled else None,
        redoc_url=None,
        default_response_class=JSONResponse,
        lifespan=lifespan,
        # Off, FastAPI does not look for OpenTelemetry providers on every request (~9 µs each)
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.registry = registry
    problems.install(app)
    # added first = innermost: inside CORS, metrics, compression and headers, before routing
    app.add_middleware(FrontCacheMiddleware)
    for name in DOMAINS:
        importlib.import_module(name).includeme(app)
    app.add_middleware(
        CompressionMiddleware, min_bytes=settings.compress_min_bytes, brotli=settings.compress_brotli
    )
    # added last = outermost: the size limit applies before anything reads the body
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    return app


def factory() -> FastAPI:
    """Entry point for ``uvicorn --factory parley.app:factory`` (settings from the environment)."""
    return create_app(freeze_heap=True)
