"""The Redis store: entries carry a TTL, other keys are left alone, and a dead Redis is a miss."""

from __future__ import annotations

import pytest

from parley.cache.interfaces import CachedResponse
from parley.cache.memory import MemoryCache
from parley.cache.redis import PREFIX, RedisCache
from support.servers import RedisServer, free_port

pytestmark = pytest.mark.redis


def test_entries_expire_and_clear_leaves_other_keys(redis_server: RedisServer) -> None:
    cache = RedisCache.from_url(redis_server.url, ttl_seconds=120)
    try:
        cache.client.set("parley:rates:someone", b"1")
        cache.set("thread:x", CachedResponse(body=b"{}", etag='"e"'))
        ttl = cache.client.ttl(PREFIX + "thread:x")
        assert 0 < ttl <= 120
        cache.client.set(PREFIX + "broken", b"junk")
        assert cache.get("broken") is None  # not ours: rebuilt, not a crash
        cache.clear()
        assert cache.get("thread:x") is None
        assert cache.client.get("parley:rates:someone") == b"1"
    finally:
        cache.client.delete("parley:rates:someone")
        cache.close()


def test_a_dead_redis_is_a_miss_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    cache.set("k", CachedResponse(body=b"secret comment text", etag='"e"'))
    assert cache.get("k") is None
    assert cache.ping() is False
    assert "secret comment text" not in caplog.text
    assert "k" not in {r.getMessage() for r in caplog.records}
    assert not cache.available  # the next requests skip Redis instead of waiting for it again
    cache.close()


def test_the_pause_after_a_failure_ends(redis_server: RedisServer) -> None:
    cache = RedisCache.from_url(redis_server.url, ttl_seconds=60)
    cache.retry_after = 60.0
    try:
        cache._failed("get", OSError())
        cache.set("k", CachedResponse(body=b"{}", etag='"e"'))
        assert cache.client.get(PREFIX + "k") is None  # skipped while paused
        assert cache.ping() is True  # readiness asks anyway, and a pong ends the pause
        assert cache.available
        cache.set("k", CachedResponse(body=b"{}", etag='"e"'))
        assert cache.get("k") is not None
    finally:
        cache.clear()
        cache.close()


def test_each_process_keeps_a_near_copy_of_what_redis_gave_it(redis_server: RedisServer) -> None:
    writer = RedisCache.from_url(redis_server.url, ttl_seconds=60, near=MemoryCache())
    reader = RedisCache.from_url(redis_server.url, ttl_seconds=60, near=MemoryCache())
    value = CachedResponse(body=b'{"comments": []}', etag='"v1"')
    try:
        writer.set("thread:near", value)
        assert reader.get("thread:near") == value  # from Redis, another instance's entry
        writer.client.delete(PREFIX + "thread:near")
        # a key names one version of a view: both keep answering it without asking Redis
        assert reader.get("thread:near") == value
        assert writer.get("thread:near") == value
        assert reader.get("thread:other") is None
        reader.clear()
        assert reader.get("thread:near") is None
    finally:
        writer.clear()
        writer.close()
        reader.close()


def test_the_near_copy_holds_only_what_redis_took(caplog: pytest.LogCaptureFixture) -> None:
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, near=MemoryCache())
    cache.set("k", CachedResponse(body=b"{}", etag='"e"'))
    assert cache.get("k") is None  # Redis refused it: no copy either
    assert cache.near is not None
    assert len(cache.near) == 0
    cache.close()
