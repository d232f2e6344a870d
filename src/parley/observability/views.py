"""``/metrics`` in the Prometheus text format, for operators only.

Who may read it (docs/operations.md): a request with ``Authorization: Bearer <metrics_token>`` when
that setting is set; otherwise a client whose address (resolved through ``trusted_proxies``) lies in
``metrics_networks`` — loopback by default. A request that reached us through a proxy we do not
trust (it carries forwarding headers, the peer is not a trusted proxy) is refused even from
loopback: behind a reverse proxy on the same machine every reader on the internet would otherwise
look local. Anything else gets 404, so the endpoint is not advertised.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from functools import lru_cache

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from parley.errors import NotFound
from parley.jobs.models import Job, JobStatus
from parley.observability.middleware import MetricsMiddleware
from parley.registry import Registry
from parley.security import client_ip

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


@lru_cache(maxsize=16)
def _networks(nets: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in nets)


def _in(address: str | None, nets: tuple[str, ...]) -> bool:
    if not address or not nets:
        return False
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in _networks(nets))


def may_read_metrics(request: Request, registry: Registry) -> bool:
    settings = registry.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    auth = request.headers.get("authorization", "")
    if token and auth[:7].lower() == "bearer ":
        return hmac.compare_digest(auth[7:].strip().encode(), token.encode())
    peer = request.client.host if request.client else None
    trusted = tuple(settings.trusted_proxies)
    proxied = any(h in request.headers for h in _FORWARDING)
    if proxied and not _in(peer, trusted):
        return False  # through a proxy we were not told about: the real client is unknown
    address = client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)
    return _in(address, tuple(settings.metrics_networks))


def _read_gauges(registry: Registry) -> None:
    """The figures read at scrape time: job queue by status, database pools, group commit."""
    metrics = registry.metrics
    try:
        with registry.db.read() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
            counts = {str(status): int(n) for status, n in rows}
    except Exception as exc:  # the database being down must not hide the other metrics
        log.warning("metrics: job counts unavailable (%s)", type(exc).__name__)
    else:
        for status in {*(s.value for s in JobStatus), *counts}:
            metrics.jobs.labels(status).set(counts.get(status, 0))
    engines = {"read": registry.db.engine, "write": registry.db.write_engine}
    for name, engine in engines.items():
        if name == "write" and engine is registry.db.engine:
            continue
        pool = engine.pool
        if isinstance(pool, QueuePool):
            metrics.db_pool.labels(name, "size").set(pool.size())
            metrics.db_pool.labels(name, "checked_out").set(pool.checkedout())
            metrics.db_pool.labels(name, "overflow").set(max(0, pool.overflow()))
    turns = registry.write_turns
    metrics.write_turns.labels("running").set(turns.running)
    metrics.write_turns.labels("waiting").set(turns.waiting)
    metrics.write_turns.labels("limit").set(turns.limit)
    if registry.db.is_sqlite:
        metrics.db_group_commit.labels("transactions").set(registry.db.batches)
        metrics.db_group_commit.labels("units").set(registry.db.batched_units)
        for part, spent in registry.db.lock_time.items():
            metrics.db_writers_lock.labels(part, "wall").set(spent.wall)
            metrics.db_writers_lock.labels(part, "cpu").set(spent.cpu)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    if not may_read_metrics(request, registry):
        raise NotFound()
    _read_gauges(registry)
    return Response(
        generate_latest(registry.metrics.registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def includeme(app: FastAPI) -> None:
    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=app.state.registry.metrics)
