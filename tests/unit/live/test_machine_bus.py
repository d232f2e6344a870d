"""The machine-file bus: every process of one machine hears every process's events, in one order.

Two :class:`MachineBus` objects on one file stand for two worker processes (each opens its own
connection and runs its own poller, as a process does); the functional cluster test runs real ones.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.config import Settings
from parley.db.machine import MachineFile, shares_on_machine
from parley.live.bus import Delivery, Subscription, ThreadEvent
from parley.live.machine_bus import MachineBus
from parley.live.memory import LocalBus
from support.waiting import wait_for


def event(comment_id: int, thread: int = 1) -> ThreadEvent:
    return ThreadEvent(site_id=1, thread_id=thread, kind="comment.published", data={"id": comment_id})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "parley.db.shared"


@pytest.fixture
def buses(path: Path) -> Iterator[tuple[MachineBus, MachineBus]]:
    one = MachineBus(MachineFile(path), poll_seconds=0.02)
    two = MachineBus(MachineFile(path), poll_seconds=0.02)
    one.start()
    two.start()
    yield one, two
    one.close()
    two.close()


async def take(sub: Subscription, n: int, timeout: float = 5.0) -> list[Delivery]:
    got: list[Delivery] = []
    while len(got) < n:
        item = await sub.next(timeout)
        assert item is not None, f"only {len(got)} of {n} arrived"
        got.append(item)
    return got


def ids(items: list[Delivery]) -> list[int]:
    return [d.event.data["id"] for d in items if d.event is not None]


def test_events_of_both_processes_reach_the_readers_of_both_in_one_order(
    buses: tuple[MachineBus, MachineBus],
) -> None:
    one, two = buses

    async def scenario() -> None:
        readers = [one.subscribe(1, 1), two.subscribe(1, 1)]
        elsewhere = two.subscribe(1, 2)

        def publish(bus: MachineBus, start: int) -> None:
            for i in range(start, start + 20):
                bus.publish(event(i))

        writers = [threading.Thread(target=publish, args=(b, s)) for b, s in ((one, 0), (two, 100))]
        for w in writers:
            w.start()
        heard = [await take(r, 40) for r in readers]
        for w in writers:
            w.join()
        assert [d.event_id for d in heard[0]] == [d.event_id for d in heard[1]]  # same ids, same order
        assert sorted(ids(heard[0])) == list(range(20)) + list(range(100, 120))
        assert [i for i in ids(heard[0]) if i < 100] == list(range(20))  # each writer's order kept
        assert await elsewhere.next(0.1) is None  # another thread's reader hears nothing

    asyncio.run(scenario())


def test_last_event_id_from_one_process_replays_through_the_other(
    buses: tuple[MachineBus, MachineBus],
) -> None:
    one, two = buses

    async def scenario() -> None:
        reader = one.subscribe(1, 1)
        one.publish(event(1))
        [seen] = await take(reader, 1)
        reader.close()
        two.publish(event(2))  # nobody listens now
        two.publish(event(3))
        await asyncio.sleep(0.2)  # both pollers have read them
        again = two.subscribe(1, 1, last_event_id=seen.event_id)
        assert ids(await take(again, 2)) == [2, 3]
        again.close()

    asyncio.run(scenario())


def test_a_process_started_later_cannot_replay_what_came_before_it_and_says_lost(path: Path) -> None:
    async def scenario() -> None:
        early = MachineBus(MachineFile(path), poll_seconds=0.02)
        reader = early.subscribe(1, 1)
        early.publish(event(1))
        [seen] = await take(reader, 1)
        early.publish(event(2))
        await asyncio.sleep(0.1)
        late = MachineBus(MachineFile(path), poll_seconds=0.02)
        again = late.subscribe(1, 1, last_event_id=seen.event_id)
        [marker] = await take(again, 1)
        assert marker.lost
        # what it hears from now on it has, and says so
        early.publish(event(3))
        assert ids(await take(again, 1)) == [3]
        for bus in (early, late):
            bus.close()

    asyncio.run(scenario())


def test_an_id_of_another_file_is_lost_not_silently_skipped(buses: tuple[MachineBus, MachineBus]) -> None:
    _, two = buses

    async def scenario() -> None:
        sub = two.subscribe(1, 1, last_event_id="deadbeef-1")
        [marker] = await take(sub, 1)
        assert marker.lost

    asyncio.run(scenario())


def test_old_events_are_pruned_by_count(path: Path) -> None:
    bus = MachineBus(MachineFile(path), keep_events=5)
    bus.start()
    for i in range(12):
        bus.publish(event(i))
    bus._store_pending()  # what the poller does at its next look
    bus._prune()
    with MachineFile(path).connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM live_events").fetchone()[0] == 5
    bus.close()


def test_a_file_that_cannot_be_written_drops_the_event_with_one_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bus = MachineBus(MachineFile(path, busy_ms=50))
    bus.start()
    blocker = sqlite3.connect(path, isolation_level=None, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the file past the busy timeout
    try:
        with caplog.at_level(logging.WARNING, logger="parley.live"):
            for i in range(2):
                bus.publish(event(i))  # returns: the request is never failed for a live update
            wait_for(lambda: bus.dropped == 2, "the poller gave the events up")
        assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        bus.close()


def test_a_file_that_cannot_be_opened_at_start_fails_nothing_and_is_used_once_it_can(tmp_path: Path) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the shared file's directory should be")

    async def scenario() -> None:
        bus = MachineBus(MachineFile(blocker / "p.db.shared"), poll_seconds=0.02)
        bus.start()  # the app starts anyway
        bus.publish(event(1))  # dropped, not raised
        reader = bus.subscribe(1, 1)
        for _ in range(200):  # the poller's next look tries to store it
            if bus.dropped:
                break
            await asyncio.sleep(0.02)
        assert bus.dropped == 1
        blocker.unlink()  # the operator fixes the directory
        for _ in range(200):  # the poller tries again (once a second after a failure)
            if bus._read_upto >= 0:
                break
            await asyncio.sleep(0.02)
        [marker] = await take(reader, 1)  # what it missed meanwhile it cannot know
        assert marker.lost
        bus.publish(event(2))
        assert ids(await take(reader, 1)) == [2]
        bus.close()

    asyncio.run(scenario())


def test_a_file_started_afresh_tells_the_readers_to_reload(path: Path) -> None:
    async def scenario() -> None:
        bus = MachineBus(MachineFile(path), poll_seconds=0.02)
        reader = bus.subscribe(1, 1)
        with MachineFile(path).connection() as conn:
            conn.execute("UPDATE meta SET value = 'newboot1' WHERE name = 'boot'")
        bus._prune()
        [marker] = await take(reader, 1)
        assert marker.lost
        assert marker.event_id.startswith("newboot1-")
        bus.close()

    asyncio.run(scenario())


def settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {"database_url": f"sqlite:///{tmp_path / 'p.db'}", "data_dir": tmp_path}
    return Settings(**{**base, "secret_key": "x" * 32, **values})


def test_the_registry_shares_on_the_machine_with_several_workers_and_no_redis(tmp_path: Path) -> None:
    from parley.moderation.machine_rates import MachineRateStore
    from parley.moderation.memory import InMemoryRateStore
    from parley.ratelimit.machine import MachineRateLimiter
    from parley.ratelimit.memory import InMemoryRateLimiter
    from parley.registry import Registry

    workers = Registry.build(settings(tmp_path, workers=3))
    asked = Registry.build(settings(tmp_path, machine_shared_state=True))
    alone = Registry.build(settings(tmp_path))
    try:
        for shared in (workers, asked):
            assert isinstance(shared.events, MachineBus)
            assert isinstance(shared.rates, MachineRateStore)
            assert isinstance(shared.limits.limiter, MachineRateLimiter)
        assert type(alone.events) is LocalBus
        assert isinstance(alone.rates, InMemoryRateStore)
        assert isinstance(alone.limits.limiter, InMemoryRateLimiter)
    finally:
        for registry in (workers, asked, alone):
            registry.close()
    # Redis, when configured, is shared by every instance: it wins; an in-memory database has one process
    assert not shares_on_machine(settings(tmp_path, workers=3, redis_url="redis://127.0.0.1:1/0"))
    assert not shares_on_machine(settings(tmp_path, workers=3, database_url="sqlite:///:memory:"))
    assert shares_on_machine(settings(tmp_path, workers=2, database_url="postgresql://u@h/db"))


def count_stored(path: Path) -> int:
    with MachineFile(path).connection() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM live_events").fetchone()[0])


def test_a_publish_writes_nothing_and_wakes_the_poller_only_for_readers_in_the_process(path: Path) -> None:
    """A publish hands the event to the poller, which stores what was published at its next look
    (an INSERT on the request's thread let the GIL go mid-request); with no reader of its own the
    process's poller is not woken for it (a POST flood woke it per comment). One that subscribes
    reads the file first, and from then on hears at once — with what its process published just
    before, stored together."""
    bus = MachineBus(MachineFile(path), poll_seconds=60.0)  # no regular poll within the test
    bus.start()
    try:
        before = bus._read_upto
        bus.publish(event(1))
        time.sleep(0.3)
        assert bus._read_upto == before  # the poller slept on: nothing read back
        assert count_stored(path) == 0  # nor stored by the publishing thread

        async def scenario() -> list[int]:
            sub = bus.subscribe(1, 1, None)
            bus.publish(event(2))
            return ids(await take(sub, 2, timeout=5.0))

        assert asyncio.run(scenario()) == [1, 2]
        assert count_stored(path) == 2
    finally:
        bus.close()


def test_closing_stores_what_was_published_since_the_last_look(path: Path) -> None:
    bus = MachineBus(MachineFile(path), poll_seconds=60.0)
    bus.start()
    for i in range(3):
        bus.publish(event(i))
    assert count_stored(path) == 0
    bus.close()
    assert count_stored(path) == 3
