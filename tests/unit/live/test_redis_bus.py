"""The Redis event bus against a real redis-server: two buses stand for two instances.

Covers the bus contract (publish never blocks, idle readers time out), fan-out across instances,
``Last-Event-ID`` replay through another instance, what is announced as ``lost`` (trimmed, unknown,
expired, listener cut off), Redis down, slow readers, and a forked worker starting its own threads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from parley.live.bus import Delivery, ThreadEvent, TooManySubscribers
from parley.live.redis_bus import RedisBus, parse_id
from support.servers import RedisServer, free_port

pytestmark = pytest.mark.redis


def event(thread: int = 1, kind: str = "comment.published", **data: object) -> ThreadEvent:
    return ThreadEvent(site_id=1, thread_id=thread, kind=kind, data={"id": 1, **data})


@pytest.fixture
def make_bus(redis_server: RedisServer) -> Iterator[type[RedisBus]]:
    """Buses sharing one Redis under a prefix of this test's own; all closed afterwards."""
    prefix = f"t{uuid.uuid4().hex[:8]}:live:"
    made: list[RedisBus] = []

    def make(**kwargs: object) -> RedisBus:
        kwargs.setdefault("prefix", prefix)
        bus = RedisBus(redis_server.url, **kwargs)  # type: ignore[arg-type]
        made.append(bus)
        return bus

    yield make  # type: ignore[misc]
    for bus in made:
        bus.close()


async def listening(bus: RedisBus) -> None:
    for _ in range(500):
        if bus.listening.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the listener did not subscribe")


async def take(sub: object, n: int, timeout: float = 3.0) -> list[Delivery]:
    got = []
    for _ in range(n):
        item = await sub.next(timeout)  # type: ignore[attr-defined]
        assert item is not None, f"only {len(got)} of {n} deliveries"
        got.append(item)
    return got


def test_contract_publish_never_blocks_and_idle_readers_time_out(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        bus = make_bus()
        bus.publish(event(thread=2))  # nobody listens: fine
        sub = bus.subscribe(1, 1)
        assert await sub.next(0.05) is None
        sub.close()
        sub.close()  # idempotent

    asyncio.run(scenario())


def test_an_event_published_on_one_instance_reaches_readers_of_the_other_in_order(
    make_bus: type[RedisBus],
) -> None:
    async def scenario() -> None:
        a, b = make_bus(), make_bus()
        sub = b.subscribe(1, 1)
        other = b.subscribe(1, 2)
        local = a.subscribe(1, 1)
        await listening(a)
        await listening(b)
        for i in range(20):
            a.publish(event(id=i))
        got = await take(sub, 20)
        assert [d.event.data["id"] for d in got if d.event] == list(range(20))
        ids = [parse_id(d.event_id) for d in got]
        assert ids == sorted(ids)
        assert None not in ids
        assert [d.event_id for d in await take(local, 20)] == [d.event_id for d in got]  # same ids
        assert await other.next(0.05) is None  # another thread's reader hears nothing
        assert b.subscriber_count == 2
        for s in (sub, other, local):
            s.close()
        assert b.subscriber_count == 0

    asyncio.run(scenario())


def test_last_event_id_replays_through_another_instance(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        a, b = make_bus(), make_bus()
        first = a.subscribe(1, 1)
        await listening(a)
        for i in range(5):
            a.publish(event(id=i))
        seen = await take(first, 2)  # the reader got two, then its connection dropped
        first.close()
        again = b.subscribe(1, 1, seen[-1].event_id)  # it reconnects to the other instance
        rest = await take(again, 3)
        assert [d.event.data["id"] for d in rest if d.event] == [2, 3, 4]
        a.publish(event(id=5))  # live events follow the replay, none repeated
        (live,) = await take(again, 1)
        assert live.event is not None
        assert live.event.data["id"] == 5
        assert await again.next(0.05) is None
        again.close()

    asyncio.run(scenario())


def test_what_cannot_be_replayed_is_announced_as_lost_once(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        bus = make_bus(backlog=5)
        sub = bus.subscribe(1, 1)
        await listening(bus)
        bus.publish(event(id=0))
        (oldest,) = await take(sub, 1)
        for i in range(1, 200):  # far more than the backlog: the stream is trimmed
            bus.publish(event(id=i))
        await take(sub, 199)
        sub.close()
        trimmed = bus.subscribe(1, 1, oldest.event_id)
        (lost,) = await take(trimmed, 1)
        assert lost.lost
        assert lost.event is None
        trimmed.close()
        # the marker's id is where to start next time: no second "lost"
        resumed = bus.subscribe(1, 1, lost.event_id)
        assert await resumed.next(0.05) is None
        resumed.close()
        for bad in ("garbage", "abcd1234-5"):  # not a stream id (e.g. from the in-process bus)
            s = bus.subscribe(1, 1, bad)
            (d,) = await take(s, 1)
            assert d.lost
            s.close()
        # a thread without a stream: an old id may have missed events, a fresh one has not
        old = bus.subscribe(1, 99, "1-0")
        (d,) = await take(old, 1)
        assert d.lost
        old.close()
        fresh = bus.subscribe(1, 99, d.event_id)
        assert await fresh.next(0.05) is None
        fresh.close()

    asyncio.run(scenario())


def test_a_reader_too_slow_for_its_queue_is_told_to_reload(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        bus = make_bus(queue_size=3)
        sub = bus.subscribe(1, 1)
        await listening(bus)
        for i in range(10):
            bus.publish(event(id=i))
        await asyncio.sleep(0.5)  # the reader does not read while they arrive
        items = []
        while (item := await sub.next(0.2)) is not None:
            items.append(item)
        assert any(d.lost for d in items)
        assert len(items) <= 3
        sub.close()

    asyncio.run(scenario())


def test_subscribers_are_capped_per_process(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        bus = make_bus(max_subscribers=1)
        sub = bus.subscribe(1, 1)
        with pytest.raises(TooManySubscribers):
            bus.subscribe(1, 2)
        sub.close()
        bus.subscribe(1, 2).close()

    asyncio.run(scenario())


def test_readers_hear_lost_when_the_listener_is_cut_off(
    make_bus: type[RedisBus], redis_server: RedisServer
) -> None:
    async def scenario() -> None:
        a, b = make_bus(), make_bus()
        sub = b.subscribe(1, 1)
        await listening(b)
        redis.Redis.from_url(redis_server.url).client_kill_filter(_type="pubsub")
        items = await take(sub, 1)
        assert items[0].lost
        await listening(b)  # it subscribes again by itself
        a.publish(event(id=7))
        (item,) = await take(sub, 1)
        assert item.event is not None
        assert item.event.data["id"] == 7
        sub.close()

    asyncio.run(scenario())


def test_redis_down_neither_blocks_nor_fails_the_publisher(caplog: pytest.LogCaptureFixture) -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", warn_every=0)
    try:
        started = time.perf_counter()
        for i in range(100):
            bus.publish(event(id=i))
        assert time.perf_counter() - started < 0.5  # queued, not sent on the request thread
        deadline = time.monotonic() + 10
        while bus.dropped < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bus.dropped == 100
    finally:
        bus.close()
    assert "publishing failed" in caplog.text


def _publish_in_child(bus: RedisBus) -> None:
    bus.publish(event(id=42))  # the parent's threads did not survive the fork: new ones start
    bus.close()  # drains the outbox


def test_a_forked_worker_starts_its_own_connection_and_threads(make_bus: type[RedisBus]) -> None:
    async def scenario() -> None:
        bus = make_bus()
        sub = bus.subscribe(1, 1)
        await listening(bus)
        child = multiprocessing.get_context("fork").Process(target=_publish_in_child, args=(bus,))
        child.start()
        await asyncio.to_thread(child.join, 20)
        assert child.exitcode == 0
        (item,) = await take(sub, 1, timeout=5)
        assert item.event is not None
        assert item.event.data["id"] == 42
        sub.close()

    asyncio.run(scenario())


def test_the_registry_picks_redis_with_redis_url_and_the_process_without(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    from parley.config import Settings
    from parley.live.memory import LocalBus
    from parley.moderation.memory import InMemoryRateStore
    from parley.moderation.redis_rates import RedisRateStore
    from parley.registry import Registry

    base = {"database_url": f"sqlite:///{tmp_path / 'p.db'}", "data_dir": tmp_path, "secret_key": "x" * 32}
    shared = Registry.build(Settings(**base, redis_url=redis_server.url))
    alone = Registry.build(Settings(**base))
    try:
        assert isinstance(shared.events, RedisBus)
        assert isinstance(shared.rates, RedisRateStore)
        assert isinstance(alone.events, LocalBus)
        assert isinstance(alone.rates, InMemoryRateStore)
    finally:
        shared.close()
        alone.close()


def test_an_unencodable_event_is_dropped_with_a_warning_and_the_bus_goes_on(
    make_bus: type[RedisBus], caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        bus = make_bus()
        sub = bus.subscribe(1, 1)
        await listening(bus)
        bus.publish(ThreadEvent(1, 1, "comment.published", {"id": object()}))
        bus.publish(event(id=3))
        (item,) = await take(sub, 1)
        assert item.event is not None
        assert item.event.data["id"] == 3
        sub.close()

    asyncio.run(scenario())
    assert "unencodable event dropped" in caplog.text
