"""Write turns (``parley.web.turns``): at most ``limit`` holders, the rest wait in arrival order on
the event loop; 0 (the default) lets everyone in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.config import Settings
from parley.web.turns import WriteTurns


async def _hold(turns: WriteTurns, name: str, entered: list[str], leave: asyncio.Event) -> None:
    async with turns.turn():
        entered.append(name)
        await leave.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_past_the_limit_requests_wait_and_enter_in_arrival_order() -> None:
    async def main() -> None:
        turns = WriteTurns(2)
        leaves = {name: asyncio.Event() for name in "abcd"}
        entered: list[str] = []
        tasks = [asyncio.create_task(_hold(turns, n, entered, leaves[n])) for n in "abcd"]
        await _settle()
        assert entered == ["a", "b"]
        assert (turns.running, turns.waiting) == (2, 2)
        leaves["b"].set()
        await _settle()
        assert entered == ["a", "b", "c"]  # c arrived before d
        assert (turns.running, turns.waiting) == (2, 1)
        for event in leaves.values():
            event.set()
        await asyncio.gather(*tasks)
        assert entered == ["a", "b", "c", "d"]
        assert (turns.running, turns.waiting) == (0, 0)

    asyncio.run(main())


def test_no_limit_lets_everyone_in_at_once() -> None:
    async def main() -> None:
        turns = WriteTurns(0)
        leave = asyncio.Event()
        entered: list[str] = []
        tasks = [asyncio.create_task(_hold(turns, str(i), entered, leave)) for i in range(20)]
        await _settle()
        assert len(entered) == 20
        assert (turns.running, turns.waiting) == (20, 0)
        leave.set()
        await asyncio.gather(*tasks)
        assert turns.running == 0

    asyncio.run(main())


def test_a_request_that_gives_up_waiting_takes_no_turn_with_it() -> None:
    async def main() -> None:
        turns = WriteTurns(1)
        leave = asyncio.Event()
        entered: list[str] = []
        first = asyncio.create_task(_hold(turns, "first", entered, leave))
        gone = asyncio.create_task(_hold(turns, "gone", entered, leave))
        await _settle()
        gone.cancel()  # e.g. the server shutting down while it waited
        await _settle()
        assert (turns.running, turns.waiting) == (1, 0)
        leave.set()
        await first
        assert gone.cancelled()
        # the turn the first one held is free again: a newcomer gets in at once
        later = asyncio.Event()
        later.set()
        await asyncio.wait_for(_hold(turns, "later", entered, later), 1)
        assert entered == ["first", "later"]

    asyncio.run(main())


def test_one_process_may_run_several_event_loops_one_after_another() -> None:
    turns = WriteTurns(1)

    async def crowded() -> list[str]:
        leave = asyncio.Event()
        entered: list[str] = []
        tasks = [asyncio.create_task(_hold(turns, str(i), entered, leave)) for i in range(3)]
        await _settle()
        assert (turns.running, turns.waiting) == (1, 2)
        leave.set()
        await asyncio.gather(*tasks)
        return entered

    # an asyncio primitive that waited on one loop refuses another; each loop gets its own
    assert asyncio.run(crowded()) == ["0", "1", "2"]
    assert asyncio.run(crowded()) == ["0", "1", "2"]


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql://parley@localhost/parley"])
def test_the_limit_is_the_setting_and_off_by_default(url: str, tmp_path: Path) -> None:
    assert WriteTurns.from_settings(Settings(database_url=url, data_dir=tmp_path)).limit == 0
    given = Settings(database_url=url, data_dir=tmp_path, write_turns=2)
    assert WriteTurns.from_settings(given).limit == 2


def test_the_setting_refuses_a_negative_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="write_turns"):
        Settings(data_dir=tmp_path, write_turns=-1)
