"""The shared response cache on Redis (redis-py), for several app instances.

Every entry is written with a TTL, so Redis never fills with versions nobody asks for again (run
it with ``maxmemory-policy allkeys-lru`` as well, see docs/operations.md). The store fails open: if
Redis does not answer within ``socket_timeout``, the read is a miss and the write is skipped —
readers get a fresh response from the database instead of an error. After a failure the store is
not asked again for ``retry_after`` seconds: the views call it on the event loop, and a hanging
Redis must cost one timeout, not one per request. Failures are logged without
keys or values (keys name threads, values hold comment text).

Each process keeps a near copy of what it read from or wrote to Redis (``near``, an in-process
:class:`~parley.cache.memory.MemoryCache`): a key names one version of one view and its value never
changes (see :mod:`parley.cache`), so a copy cannot go stale, and a hot thread's answer is not
fetched from Redis — 0.4 MB for a 1,000-comment thread — on every read. Only what Redis took or
gave is copied, so a dead Redis is still a miss.
"""

from __future__ import annotations

import logging
import time

import redis

from parley.cache.interfaces import CachedResponse
from parley.cache.memory import MemoryCache

log = logging.getLogger(__name__)
PREFIX = "parley:cache:"
_LOG_EVERY = 30.0  # seconds between two "Redis is failing" warnings
RETRY_AFTER = 5.0  # seconds the cache is skipped after Redis failed


class RedisCache:
    name = "redis"

    def __init__(
        self,
        client: redis.Redis[bytes],
        *,
        ttl_seconds: int = 300,
        retry_after: float = RETRY_AFTER,
        near: MemoryCache | None = None,
    ) -> None:
        self.client = client
        self.ttl_seconds = max(1, int(ttl_seconds))
        self.near = near
        self.retry_after = retry_after
        self._last_warning = 0.0
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False for ``retry_after`` seconds after a failure (then the next call tries again)."""
        return time.monotonic() >= self._down_until

    @classmethod
    def from_url(
        cls, url: str, *, ttl_seconds: int = 300, timeout: float = 0.5, near: MemoryCache | None = None
    ) -> RedisCache:
        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        return cls(client, ttl_seconds=ttl_seconds, near=near)

    def _failed(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + self.retry_after
        if now - self._last_warning > _LOG_EVERY:
            self._last_warning = now
            log.warning(
                "response cache: Redis %s failed (%s); serving without the cache", what, type(exc).__name__
            )

    def get(self, key: str) -> CachedResponse | None:
        if self.near is not None:
            copy = self.near.get(key)
            if copy is not None:
                return copy
        if not self.available:
            return None
        try:
            data = self.client.get(PREFIX + key)
        except redis.RedisError as exc:
            self._failed("get", exc)
            return None
        if not isinstance(data, bytes):
            return None
        try:
            value = CachedResponse.unpack(data)
        except ValueError:
            return None  # written by something else: rebuild it
        if self.near is not None:
            self.near.set(key, value)
        return value

    def set(self, key: str, value: CachedResponse) -> None:
        if not self.available:
            return
        try:
            self.client.set(PREFIX + key, value.pack(), ex=self.ttl_seconds)
        except redis.RedisError as exc:
            self._failed("set", exc)
            return
        if self.near is not None:
            self.near.set(key, value)

    def clear(self) -> None:
        """Remove this cache's keys (SCAN, not FLUSHDB: the database may hold rate limits and more),
        and this process's near copies (other processes' copies are of versions nobody asks for
        once the data changed)."""
        if self.near is not None:
            self.near.clear()
        try:
            batch: list[bytes] = []
            for k in self.client.scan_iter(match=PREFIX + "*", count=500):
                batch.append(k)
                if len(batch) >= 500:
                    self.client.delete(*batch)
                    batch.clear()
            if batch:
                self.client.delete(*batch)
        except redis.RedisError as exc:
            self._failed("clear", exc)

    def ping(self) -> bool:
        """Always asks Redis (readiness must see it come back), and ends the pause when it answers."""
        try:
            up = bool(self.client.ping())
        except redis.RedisError:
            return False
        if up:
            self._down_until = 0.0
        return up

    def close(self) -> None:
        if self.near is not None:
            self.near.clear()
        self.client.close()
