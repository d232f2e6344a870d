"""Write turns (``parley.web.turns``): at most ``limit`` holders, the others wait on their own
threads; 0 lets everyone in; unset, 2 on PostgreSQL and none on SQLite. The write views' pool
(``_on_pool``): a write cancelled while queued never runs, one cancelled while running ends first."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from parley.config import Settings
from parley.web.turns import DEFAULT_POSTGRESQL, WriteTurns, _on_pool
from support.waiting import wait_for


class Holders:
    """Threads that each take a turn, note that they are in, and hold it until let go."""

    def __init__(self, turns: WriteTurns) -> None:
        self.turns = turns
        self.entered: list[str] = []
        self.leave: dict[str, threading.Event] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str) -> None:
        self.leave[name] = threading.Event()
        t = threading.Thread(target=self._hold, args=(name,))
        self.threads.append(t)
        t.start()

    def _hold(self, name: str) -> None:
        with self.turns.turn():
            self.entered.append(name)
            assert self.leave[name].wait(10)

    def finish(self) -> None:
        for event in self.leave.values():
            event.set()
        for t in self.threads:
            t.join(10)
        assert not any(t.is_alive() for t in self.threads)


def test_past_the_limit_threads_wait_and_go_in_as_turns_free_up() -> None:
    turns = WriteTurns(2)
    holders = Holders(turns)
    try:
        for name in "ab":
            holders.start(name)
        wait_for(lambda: turns.running == 2, "two in")
        for name in "cd":
            holders.start(name)
        wait_for(lambda: turns.waiting == 2, "two waiting")
        time.sleep(0.1)
        assert sorted(holders.entered) == ["a", "b"]  # nobody slipped past the limit
        holders.leave["b"].set()
        wait_for(lambda: len(holders.entered) == 3, "a third in once b left")
        assert (turns.running, turns.waiting) == (2, 1)
    finally:
        holders.finish()
    assert sorted(holders.entered) == ["a", "b", "c", "d"]
    assert (turns.running, turns.waiting) == (0, 0)


def test_no_limit_lets_everyone_in_at_once() -> None:
    turns = WriteTurns(0)
    holders = Holders(turns)
    try:
        for i in range(20):
            holders.start(str(i))
        wait_for(lambda: len(holders.entered) == 20, "all twenty in")
        assert (turns.running, turns.waiting) == (20, 0)
    finally:
        holders.finish()
    assert turns.running == 0


def test_a_block_that_raises_gives_its_turn_back() -> None:
    turns = WriteTurns(1)
    with pytest.raises(RuntimeError), turns.turn():
        raise RuntimeError("the view failed")
    assert (turns.running, turns.waiting) == (0, 0)
    done = threading.Event()

    def take() -> None:
        with turns.turn():
            done.set()

    t = threading.Thread(target=take)
    t.start()
    assert done.wait(5), "the failed block kept its turn"
    t.join(5)


@pytest.mark.parametrize(
    ("url", "default"),
    [("sqlite:///x.db", 0), ("postgresql://parley@localhost/parley", DEFAULT_POSTGRESQL)],
)
def test_unset_the_limit_depends_on_the_database_and_a_setting_wins(
    url: str, default: int, tmp_path: Path
) -> None:
    assert DEFAULT_POSTGRESQL > 0
    assert WriteTurns.from_settings(Settings(database_url=url, data_dir=tmp_path)).limit == default
    for given in (0, 3):
        settings = Settings(database_url=url, data_dir=tmp_path, write_turns=given)
        assert WriteTurns.from_settings(settings).limit == given


def test_the_setting_refuses_a_negative_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="write_turns"):
        Settings(data_dir=tmp_path, write_turns=-1)


@pytest.mark.parametrize("limit", [0, 1])
def test_a_queued_request_counts_as_waiting_until_its_turn_begins(limit: int) -> None:
    turns = WriteTurns(limit)
    turns.queue()  # waiting for one of the writers' threads
    assert (turns.running, turns.waiting) == (0, 1)
    with turns.turn(queued=True):
        assert (turns.running, turns.waiting) == (1, 0)  # counted once, not twice
    assert (turns.running, turns.waiting) == (0, 0)
    turns.queue()
    turns.leave_queue()  # gave up before it had a thread
    assert (turns.running, turns.waiting) == (0, 0)


def test_a_write_cancelled_in_the_pools_queue_never_runs_one_running_ends_first() -> None:
    turns = WriteTurns(1)
    release = threading.Event()
    ran: list[str] = []

    def job(name: str) -> str:
        with turns.turn(queued=True):
            if name == "first":
                assert release.wait(10)
            ran.append(name)
            return name

    async def scenario() -> None:
        turns.queue()
        first = asyncio.create_task(_on_pool(turns, lambda: job("first")))
        await asyncio.sleep(0.05)
        turns.queue()
        second = asyncio.create_task(_on_pool(turns, lambda: job("second")))
        await asyncio.sleep(0.05)
        assert (turns.running, turns.waiting) == (1, 1)
        second.cancel()  # still queued behind the first
        first.cancel()  # running: the task waits for it
        await asyncio.sleep(0.05)
        assert not first.done()
        assert turns.waiting == 0  # the cancelled one left the queue
        release.set()
        for task in (first, second):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert ran == ["first"]  # the first ended before its task did; the second never ran
        assert (turns.running, turns.waiting) == (0, 0)
        turns.queue()
        assert await _on_pool(turns, lambda: job("third")) == "third"  # the pool goes on

    try:
        asyncio.run(scenario())
    finally:
        turns.close()
