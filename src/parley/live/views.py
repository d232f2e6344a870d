"""``GET /api/v1/threads/{key}/events``: a thread's live events as Server-Sent Events.

The stream announces ``comment.published``, ``comment.updated``, ``comment.removed`` and
``vote.changed`` with ids and counts only; the widget fetches announced comments through the normal
API, which applies every visibility rule (a held comment is never published on the bus, and if it
were, the reader could not fetch it). ``reset`` tells the reader it missed events: reload.

Each stream lives ``live_stream_seconds`` and then ends; ``EventSource`` reconnects by itself and
sends ``Last-Event-ID``, from which the bus replays what the reader missed. Heartbeat comments keep
proxies from closing idle streams and let the server notice readers that left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Path, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from parley.comments import threads
from parley.comments.errors import ThreadNotFound
from parley.live.bus import PUBLIC_KINDS, Delivery, EventBus, TooManySubscribers
from parley.live.errors import LiveUnavailable
from parley.live.memory import LocalBus
from parley.web.context import RequestContext, get_context
from parley.web.problems import problem_responses
from parley.web.responses import dumps

router = APIRouter(prefix="/api/v1", tags=["live"])
log = logging.getLogger("parley.live")

# A stream for a thread that does not exist yet ends at once and asks the browser to come back later.
_NO_THREAD_RETRY_MS = 30_000
_RETRY_MS = 3_000
_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass events through as they come
}


def _find_thread(ctx: RequestContext, thread_key: str) -> tuple[int, int] | None:
    with ctx.registry.db.read() as session:
        site = ctx.site(session)
        thread = threads.find_thread(session, site.id, threads.check_thread_key(thread_key))
        if thread is None:
            if not site.policy().auto_create_threads:
                raise ThreadNotFound()
            return None
        return site.id, thread.id


def format_event(item: Delivery) -> bytes:
    if item.lost or item.event is None:
        return f"id: {item.event_id}\nevent: reset\ndata: {{}}\n\n".encode()
    data = dumps(item.event.public_data()).decode()
    return f"id: {item.event_id}\nevent: {item.event.kind}\ndata: {data}\n\n".encode()


async def _stream(
    bus: EventBus, where: tuple[int, int], last_event_id: str | None, heartbeat: float, lifetime: float
) -> AsyncIterator[bytes]:
    # subscribe inside the generator: its ``finally`` is then sure to run, even when the reader
    # leaves before the first byte
    try:
        sub = bus.subscribe(where[0], where[1], last_event_id)
    except TooManySubscribers:
        yield f"retry: {_NO_THREAD_RETRY_MS}\n: busy\n\n".encode()
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    try:
        yield f"retry: {_RETRY_MS}\n: live\n\n".encode()
        while (remaining := deadline - loop.time()) > 0:
            item = await sub.next(min(heartbeat, remaining))
            if item is None:
                yield b": ping\n\n"
            elif item.lost or (item.event is not None and item.event.kind in PUBLIC_KINDS):
                yield format_event(item)
    finally:
        sub.close()


async def _no_thread_yet() -> AsyncIterator[bytes]:
    yield f"retry: {_NO_THREAD_RETRY_MS}\n: no comments yet\n\n".encode()


@router.get(
    "/threads/{thread_key:path}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **problem_responses({404: "Unknown thread", 503: "Live updates are switched off"}),
    },
)
async def thread_events(
    request: Request,
    thread_key: Annotated[str, Path(min_length=1, max_length=512)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> Response:
    """Live events of a thread: new comments, edits, removals and vote counts (ids and counts only)."""
    ctx = get_context(request)
    settings = ctx.settings
    if settings.live_max_connections == 0:
        raise LiveUnavailable()
    found = await run_in_threadpool(_find_thread, ctx, thread_key)
    if found is None:
        return StreamingResponse(_no_thread_yet(), media_type="text/event-stream", headers=_HEADERS)
    stream = _stream(
        ctx.registry.events,
        found,
        last_event_id,
        settings.live_heartbeat_seconds,
        settings.live_stream_seconds,
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)


def includeme(app: FastAPI) -> None:
    registry = app.state.registry
    start = getattr(registry.events, "start", None)  # a shared bus subscribes before any reader comes
    if start is not None:
        start()
    if registry.settings.workers > 1 and type(registry.events) is LocalBus:  # MachineBus is shared
        log.warning(
            "%d workers without redis_url: live events, rate limits and moderation flood counts are "
            "each worker's own (a reader hears only the events of the worker serving its stream)",
            registry.settings.workers,
        )
    app.include_router(router)
