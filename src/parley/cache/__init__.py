"""The response cache of the public thread views.

``interfaces`` holds the :class:`~parley.cache.interfaces.ResponseCache` protocol, the value it stores
and the Null implementation; ``memory`` the in-process bounded LRU (the default); ``redis`` the one
shared by every instance (when ``PARLEY_REDIS_URL`` is set, with an in-process near copy of the
entries each process used); ``http`` the HTTP side (keys, ETags,
conditional requests, ``Cache-Control``). :func:`build_cache` picks the implementation from the settings.

Entries are never invalidated by hand: a key holds the thread's ``version``, which every change a
reader can see bumps in the same transaction, so after a write the next read asks for a key nobody
stored yet — on every instance at once. Old entries age out (LRU, TTL).
"""

from __future__ import annotations

from parley.cache.interfaces import CachedResponse, NullCache, ResponseCache
from parley.config import Settings


def build_cache(settings: Settings) -> ResponseCache:
    """Redis when ``redis_url`` is set, an in-process LRU otherwise, nothing when the cache is off."""
    if not settings.cache_enabled:
        return NullCache()
    from parley.cache.memory import MemoryCache

    in_process = MemoryCache(
        max_entries=settings.cache_max_entries,
        max_bytes=settings.cache_max_bytes,
        ttl_seconds=settings.cache_ttl_seconds,
    )
    if settings.redis_url:
        from parley.cache.redis import RedisCache

        # the in-process LRU becomes each process's near copy of what it used from Redis
        ttl = settings.cache_ttl_seconds
        return RedisCache.from_url(settings.redis_url, ttl_seconds=ttl, near=in_process)
    return in_process


__all__ = ["CachedResponse", "NullCache", "ResponseCache", "build_cache"]
