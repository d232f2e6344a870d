"""The Redis rate store against a real redis-server: the moderation store contract, sharing between
instances, erasure, and how it fails (reads raise so the phase fails open; writes only log)."""

from __future__ import annotations

import uuid

import pytest

from parley.moderation.redis_rates import RedisRateStore
from support.servers import RedisServer, free_port
from unit.moderation.test_backends import test_rate_store_contract as rate_store_contract
from unit.moderation.test_backends import test_rate_store_forget_contract as forget_contract

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}:mr:"


def test_contract(redis_server: RedisServer, prefix: str) -> None:
    rate_store_contract(lambda: RedisRateStore.from_url(redis_server.url, prefix=prefix))
    forget_contract(lambda: RedisRateStore.from_url(redis_server.url, prefix=prefix + "f:"))


def test_events_recorded_on_one_instance_count_on_the_other(redis_server: RedisServer, prefix: str) -> None:
    one = RedisRateStore.from_url(redis_server.url, prefix=prefix)
    two = RedisRateStore.from_url(redis_server.url, prefix=prefix)
    try:
        for _ in range(3):
            one.record_each(["site:acct:1"], 100.0)  # the same instant counts three times
        two.record_each(["site:acct:1"], 101.0)
        assert two.recent("site:acct:1", 100.0) == [100.0, 100.0, 100.0, 101.0]
        assert one.recent("site:acct:1", 100.5) == [101.0]
    finally:
        one.close()
        two.close()


def test_old_events_are_dropped_and_keys_expire(redis_server: RedisServer, prefix: str) -> None:
    store = RedisRateStore.from_url(redis_server.url, prefix=prefix, max_age=100.0)
    try:
        store.record_each(["k"], 10.0)
        store.record_each(["k"], 200.0)  # 10.0 is now older than max_age
        assert store.recent("k", 0) == [200.0]
        assert 0 < store._client.ttl(prefix + "k") <= 160
    finally:
        store.close()


def test_forget_takes_glob_characters_literally(redis_server: RedisServer, prefix: str) -> None:
    store = RedisRateStore.from_url(redis_server.url, prefix=prefix)
    try:
        store.record_each(["news:guest:a*b"], 1.0)
        store.record_each(["news:guest:axxb"], 1.0)
        store.forget("guest:a*b")  # a guest's name may hold * ? [ ]
        assert store.recent("news:guest:axxb", 0) == [1.0]
        assert store.recent("news:guest:a*b", 0) == []
    finally:
        store.close()


def test_redis_down_reads_raise_and_writes_log(caplog: pytest.LogCaptureFixture) -> None:
    import redis

    store = RedisRateStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(redis.RedisError):  # the rate phase fails open and records why
            store.recent("k", 0)
        store.record_each(["site:ip:secret-hash"], 1.0)  # the comment is stored already: no exception
    finally:
        store.close()
    assert "Redis unavailable" in caplog.text
    assert "secret-hash" not in caplog.text
