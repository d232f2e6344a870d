"""The live-event buses: a contract every implementation keeps (the Redis bus's own file runs it on
Redis), and the in-process bus's details (thread-safe publishing into asyncio readers, backlog
replay, slow readers)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from parley.live.bus import EventBus, NullBus, ThreadEvent, TooManySubscribers
from parley.live.memory import LocalBus


def machine_bus() -> EventBus:
    """The machine-file bus on a fresh file (tests/unit/live/test_machine_bus.py has the rest)."""
    from parley.db.machine import MachineFile
    from parley.live.machine_bus import MachineBus as Bus

    return Bus(MachineFile(Path(tempfile.mkdtemp(prefix="parley-machine-")) / "p.db.shared"))


BUSES: list[Callable[[], EventBus]] = [NullBus, LocalBus, machine_bus]


def event(thread: int = 1, kind: str = "comment.published", **data: object) -> ThreadEvent:
    return ThreadEvent(site_id=1, thread_id=thread, kind=kind, data={"id": 1, **data})


@pytest.mark.parametrize("make", BUSES, ids=lambda b: b.__name__)
def test_contract_publish_never_blocks_and_idle_readers_time_out(make: Callable[[], EventBus]) -> None:
    async def scenario() -> None:
        bus = make()
        bus.publish(event())  # nobody listens: fine
        sub = bus.subscribe(1, 1)
        assert await sub.next(0.05) is None
        sub.close()
        sub.close()  # idempotent
        bus.close()

    asyncio.run(scenario())


def test_events_from_worker_threads_reach_the_reader_in_order() -> None:
    async def scenario() -> None:
        bus = LocalBus()
        sub = bus.subscribe(1, 1)
        other = bus.subscribe(1, 2)

        def publish() -> None:
            for i in range(50):
                bus.publish(event(id=i))

        t = threading.Thread(target=publish)
        t.start()
        got = []
        while len(got) < 50:
            item = await sub.next(1.0)
            assert item is not None
            assert item.event is not None
            got.append(item.event.data["id"])
        t.join()
        assert got == list(range(50))
        assert await other.next(0.01) is None  # another thread's reader hears nothing
        assert bus.subscriber_count == 2
        sub.close()
        other.close()
        assert bus.subscriber_count == 0

    asyncio.run(scenario())


def test_public_data_is_ids_and_counts_only() -> None:
    e = event(parent_id=None, up=3, down=1, body="secret", author="name", status="held")
    assert e.public_data() == {"id": 1, "parent_id": None, "up": 3, "down": 1}


def test_replay_after_last_event_id_and_reset_when_unknown() -> None:
    async def scenario() -> None:
        bus = LocalBus(backlog=3)
        first = bus.subscribe(1, 1)
        bus.publish(event(id=1))
        seen = await first.next(0.1)
        assert seen is not None
        first.close()
        bus.publish(event(id=2))
        bus.publish(event(id=3))
        back = bus.subscribe(1, 1, seen.event_id)
        ids = [(await back.next(0.1)) for _ in range(2)]
        assert [d.event.data["id"] for d in ids if d and d.event] == [2, 3]
        assert await back.next(0.01) is None
        for bad in ("other-boot-1", "nonsense", f"{bus.boot}-999"):
            reset = await bus.subscribe(1, 1, bad).next(0.1)
            assert reset is not None
            assert reset.lost
        for i in range(4, 8):  # the backlog holds 3: the reader that saw event 1 missed too much
            bus.publish(event(id=i))
        late = await bus.subscribe(1, 1, seen.event_id).next(0.1)
        assert late is not None
        assert late.lost

    asyncio.run(scenario())


def test_a_slow_reader_is_told_to_reload_instead_of_growing_without_bound() -> None:
    async def scenario() -> None:
        bus = LocalBus(queue_size=5)
        sub = bus.subscribe(1, 1)
        for i in range(20):
            bus.publish(event(id=i))
        await asyncio.sleep(0)  # let the loop run the hand-overs
        first = await sub.next(0.1)
        assert first is not None
        assert first.lost
        rest = []
        while (item := await sub.next(0.01)) is not None:
            rest.append(item)
        assert len(rest) < 5

    asyncio.run(scenario())


def test_subscriber_limit() -> None:
    async def scenario() -> None:
        bus = LocalBus(max_subscribers=1)
        bus.subscribe(1, 1)
        with pytest.raises(TooManySubscribers):
            bus.subscribe(1, 2)

    asyncio.run(scenario())


def test_a_reader_whose_loop_is_gone_is_dropped() -> None:
    bus = LocalBus()

    async def subscribe_and_leave() -> None:
        bus.subscribe(1, 1)

    asyncio.run(subscribe_and_leave())  # the loop closes with the subscription still registered
    bus.publish(event())
    assert bus.subscriber_count == 0
