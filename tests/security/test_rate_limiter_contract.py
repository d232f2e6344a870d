"""The RateLimiter contract, run against every implementation: in process, the machine's shared
file and Redis.

A new implementation joins by adding its factory to :func:`limiter`'s parameters. Time is passed
in (the limiter never reads a clock), so every case is exact.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.db.machine import MachineFile
from parley.ratelimit import InMemoryRateLimiter, RateLimiter, Rule
from parley.ratelimit.machine import MachineRateLimiter
from parley.ratelimit.redis_backend import RedisRateLimiter
from support.servers import RedisServer

T0 = 1_699_999_200.0  # a border of every window below (a multiple of 3600)


@pytest.fixture(params=["memory", "machine", "redis"])
def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield InMemoryRateLimiter()
        return
    if request.param == "machine":
        machine = MachineRateLimiter(MachineFile(tmp_path / "p.db.shared"))
        yield machine
        machine.close()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    made = RedisRateLimiter.from_url(server.url)
    made._client.flushdb()
    yield made
    made.close()


def test_admits_exactly_the_limit_then_refuses_with_a_wait(limiter: RateLimiter) -> None:
    rule = Rule("c", 5, 60)
    assert [limiter.hit("k", rule, T0 + 1).allowed for _ in range(8)] == [True] * 5 + [False] * 3
    refused = limiter.hit("k", rule, T0 + 1)
    assert not refused.allowed
    # the window is full by itself: the wait runs into the next window until one slot frees
    assert refused.retry_after == pytest.approx(59 + 60 / 5)


def test_keys_and_rules_count_separately(limiter: RateLimiter) -> None:
    a, b = Rule("a", 1, 60), Rule("b", 1, 60)
    assert limiter.hit("k1", a, T0).allowed
    assert not limiter.hit("k1", a, T0).allowed
    assert limiter.hit("k2", a, T0).allowed
    assert limiter.hit("k1", b, T0).allowed


def test_the_window_slides(limiter: RateLimiter) -> None:
    rule = Rule("s", 10, 60)
    for _ in range(10):
        assert limiter.hit("k", rule, T0 + 59).allowed
    assert not limiter.hit("k", rule, T0 + 59).allowed
    # half-way through the next window, half of the previous window still counts (5): 5 more
    admitted = sum(limiter.hit("k", rule, T0 + 90).allowed for _ in range(10))
    assert admitted == 5
    # two windows later nothing counts any more
    assert sum(limiter.hit("k", rule, T0 + 240).allowed for _ in range(12)) == 10


def test_retry_after_is_when_a_hit_is_admitted_again(limiter: RateLimiter) -> None:
    rule = Rule("r", 4, 60)
    for _ in range(4):
        assert limiter.hit("k", rule, T0 + 50).allowed
    wait = limiter.hit("k", rule, T0 + 50).retry_after
    assert wait > 0
    assert not limiter.hit("k", rule, T0 + 50 + wait - 0.5).allowed
    assert limiter.hit("k", rule, T0 + 50 + wait + 0.01).allowed


def test_refused_hits_are_not_counted(limiter: RateLimiter) -> None:
    rule = Rule("n", 2, 60)
    for _ in range(2):
        limiter.hit("k", rule, T0)
    for _ in range(50):
        assert not limiter.hit("k", rule, T0 + 1).allowed
    # a client that kept knocking is back as soon as one that waited would be
    assert limiter.hit("k", rule, T0 + 120).allowed


def test_concurrent_hits_on_the_last_slots_admit_exactly_the_limit(limiter: RateLimiter) -> None:
    rule = Rule("race", 10, 60)
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(32)

    def knock() -> None:
        barrier.wait()
        ok = limiter.hit("k", rule, T0 + 5).allowed
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=knock) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 32
    assert results.count(True) == 10


def test_redis_counts_are_shared_by_every_instance(redis_server: RedisServer) -> None:
    one, two = RedisRateLimiter.from_url(redis_server.url), RedisRateLimiter.from_url(redis_server.url)
    try:
        rule = Rule("shared", 6, 60)
        admitted = [(one if i % 2 else two).hit("k", rule, T0).allowed for i in range(12)]
        assert admitted.count(True) == 6
    finally:
        one.close()
        two.close()


def test_redis_down_fails_open_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    server = RedisServer().start()
    made = RedisRateLimiter.from_url(server.url)
    server.cleanup()
    try:
        rule = Rule("down", 1, 60)
        with caplog.at_level(logging.WARNING, logger="parley.ratelimit"):
            assert all(made.hit("k", rule, T0).allowed for _ in range(3))
        warnings = [r for r in caplog.records if r.name == "parley.ratelimit"]
        assert len(warnings) == 1  # one warning, not one per request
        assert "Redis unavailable" in warnings[0].getMessage()
    finally:
        made.close()


def _knock_from_a_process(path: str, start: object, times: int) -> int:
    limiter = MachineRateLimiter(MachineFile(Path(path)))
    start.wait()  # type: ignore[attr-defined]
    admitted = sum(limiter.hit("k", Rule("procs", 150, 60), T0 + 5).allowed for _ in range(times))
    limiter.close()
    return admitted


def test_the_machine_file_counts_for_every_process_and_admits_exactly_the_limit(tmp_path: Path) -> None:
    """Four processes (as ``parley serve --workers 4`` runs them) knock 100 times each at once."""
    path = str(tmp_path / "p.db.shared")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(4) as pool:
            pending = [pool.apply_async(_knock_from_a_process, (path, start, 100)) for _ in range(4)]
            start.set()
            admitted = [p.get(60) for p in pending]
    assert sum(admitted) == 150


def test_the_machine_file_failing_admits_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the shared file's directory should be")
    made = MachineRateLimiter(MachineFile(blocked / "p.db.shared"))
    rule = Rule("down", 1, 60)
    with caplog.at_level(logging.WARNING, logger="parley.ratelimit"):
        assert all(made.hit("k", rule, T0).allowed for _ in range(3))
    warnings = [r for r in caplog.records if r.name == "parley.ratelimit"]
    assert len(warnings) == 1
    assert "shared file failed" in warnings[0].getMessage()
