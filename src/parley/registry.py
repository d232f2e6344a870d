"""The registry: the long-lived services of one process, built once by ``create_app``.

Views reach it through ``request.app.state.registry``; CLI commands build their own. Backends that
have a single-process and a shared (Redis) implementation are chosen here, from the settings.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from parley.cache import CachedResponse, NullCache, ResponseCache, build_cache
from parley.cache.front import FrontIndex
from parley.clock import Clock, SystemClock
from parley.config import Settings
from parley.db.database import CpuTurns, Database
from parley.db.machine import machine_file_for
from parley.live.bus import EventBus, NullBus
from parley.live.memory import LocalBus
from parley.moderation.backends import ModerationBackends, RateStore
from parley.moderation.memory import InMemoryRateStore
from parley.moderation.pipeline import Pipeline, build_pipeline
from parley.moderation.sql import SqlAuthorHistory, SqlCopyIndex, SqlNameRegistry
from parley.observability.metrics import Metrics
from parley.ratelimit import RateLimits
from parley.web.turns import WriteTurns


@dataclass
class Registry:
    settings: Settings
    db: Database
    clock: Clock
    pipeline: Pipeline
    rates: RateStore = field(default_factory=InMemoryRateStore)
    events: EventBus = field(default_factory=NullBus)
    extras: dict[str, Any] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    limits: RateLimits = field(default_factory=RateLimits.unlimited)  # request rate limits
    cache: ResponseCache = field(default_factory=NullCache)  # public thread views (parley.cache)
    front: FrontIndex = field(default_factory=lambda: FrontIndex(recheck_seconds=0))  # cache.front
    builds: dict[str, asyncio.Future[CachedResponse | None]] = field(default_factory=dict)
    """Cache keys whose answer a view is building in the thread pool right now (on the event loop
    only): readers of the same key wait for that build's entry (None if it failed) instead of
    starting their own."""
    write_turns: WriteTurns = field(default_factory=lambda: WriteTurns(0))  # no limit
    """Readers' write requests let in at once in this process (``parley.web.turns``)."""

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Registry:
        db = Database(settings)
        metrics = Metrics()  # phase runs, failures and latency (workspace health, /metrics)
        return cls(
            settings=settings,
            db=db,
            clock=clock or SystemClock(),
            pipeline=build_pipeline(observers=[metrics.observe_phase]),
            metrics=metrics,
            events=build_event_bus(settings),
            rates=build_rate_store(settings),
            limits=RateLimits.from_settings(settings),
            write_turns=WriteTurns.from_settings(settings),
            cache=build_cache(settings),
            front=FrontIndex(recheck_seconds=settings.cache_recheck_seconds if settings.cache_enabled else 0),
        )

    @property
    def cpu_turns(self) -> CpuTurns:
        """CPU-bound request work done outside the database's write lock (a POST's rendering and the
        pipeline's text-only work) takes turns, one request at a time per process. Left to compete
        for the GIL, eight such threads of a worker starved some of their own for seconds (POST p99
        2.5-3.3 s at 16 connections, against 0.4-0.5 s taking turns; docs/performance.md). On SQLite
        the database's writer thread pauses them while it holds the writers' lock (``CpuTurns``)."""
        return self.db.cpu_turns

    def backends_for(self, session: Session) -> ModerationBackends:
        """The stores moderation consults, bound to this unit of work's session.

        Copy index, name registry and author history live in the database (shared by every
        instance, stored with the comment in one transaction); rate events live in the process,
        the machine's shared file (several workers) or Redis when configured.
        """
        return ModerationBackends(
            copies=SqlCopyIndex(session),
            rates=self.rates,
            history=SqlAuthorHistory(session),
            names=SqlNameRegistry(session),
        )

    def close(self) -> None:
        self.write_turns.close()  # the writes still running end first
        self.events.close()
        self.limits.close()
        self.cache.close()
        close_rates = getattr(self.rates, "close", None)  # the Redis and machine stores hold a connection
        if close_rates is not None:
            close_rates()
        self.db.dispose()


def build_event_bus(settings: Settings) -> EventBus:
    """Redis (streams + pub/sub) when ``redis_url`` is set: every instance hears every event. Without
    it, several processes of one machine share a file (:mod:`parley.db.machine`); one process keeps
    its events to itself."""
    if settings.redis_url:
        from parley.live.redis_bus import RedisBus

        return RedisBus(settings.redis_url, max_subscribers=settings.live_max_connections)
    machine = machine_file_for(settings)
    if machine is not None:
        from parley.live.machine_bus import MachineBus

        return MachineBus(machine, max_subscribers=settings.live_max_connections)
    return LocalBus(max_subscribers=settings.live_max_connections)


def build_rate_store(settings: Settings) -> RateStore:
    """Moderation's flood/rate events: in Redis when ``redis_url`` is set, so they hold across
    instances; in the machine's shared file for several processes without Redis; else in process."""
    if settings.redis_url:
        from parley.moderation.redis_rates import RedisRateStore

        return RedisRateStore.from_url(settings.redis_url)
    machine = machine_file_for(settings)
    if machine is not None:
        from parley.moderation.machine_rates import MachineRateStore

        return MachineRateStore(machine)
    return InMemoryRateStore()
