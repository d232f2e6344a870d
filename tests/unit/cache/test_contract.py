"""One contract for every :class:`~parley.cache.interfaces.ResponseCache`: the in-process LRU and
the Redis store (against a private redis-server) behave the same from the views' side."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley.cache.interfaces import CachedResponse, NullCache, ResponseCache
from parley.cache.memory import MemoryCache
from support.servers import RedisServer


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache(request: pytest.FixtureRequest) -> Iterator[ResponseCache]:
    if request.param == "memory":
        yield MemoryCache(max_entries=100, max_bytes=1 << 20, ttl_seconds=60)
        return
    from parley.cache.redis import RedisCache

    server: RedisServer = request.getfixturevalue("redis_server")
    store = RedisCache.from_url(server.url, ttl_seconds=60)
    store.clear()
    yield store
    store.clear()
    store.close()


def entry(text: str, gz: bytes | None = None, br: bytes | None = None) -> CachedResponse:
    return CachedResponse(body=text.encode(), etag=f'"{text}"', gzip=gz, br=br)


def test_miss_then_hit(cache: ResponseCache) -> None:
    assert cache.get("thread:a") is None
    cache.set("thread:a", entry("eins", b"\x1f\x8bzip", b"\x0bbrotli"))
    assert cache.get("thread:a") == entry("eins", b"\x1f\x8bzip", b"\x0bbrotli")
    assert cache.get("thread:b") is None


def test_overwrite_and_clear(cache: ResponseCache) -> None:
    cache.set("k", entry("alt"))
    cache.set("k", entry("neu"))
    assert cache.get("k") == entry("neu")
    cache.clear()
    assert cache.get("k") is None


def test_empty_bodies_and_no_codings_survive(cache: ResponseCache) -> None:
    cache.set("leer", CachedResponse(body=b"", etag='"e"', gzip=None))
    got = cache.get("leer")
    assert got is not None
    assert got.body == b""
    assert got.gzip is None
    assert got.br is None


def test_ping(cache: ResponseCache) -> None:
    assert cache.ping() is True


def test_null_cache_stores_nothing() -> None:
    null = NullCache()
    null.set("k", entry("x"))
    assert null.get("k") is None
    assert null.ping() is True
