"""The background job queue: durable enqueue in the caller's transaction, retries with backoff."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from parley.clock import FrozenClock
from parley.jobs import services as jobs
from parley.jobs.models import Job, JobStatus

CALLS: list[tuple[str, dict[str, Any], int]] = []


@jobs.handler("test.ok")
def _ok(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(("ok", payload, ctx.attempt))


@jobs.handler("test.flaky")
def _flaky(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(("flaky", payload, ctx.attempt))
    if ctx.attempt < payload["succeed_on"]:
        raise ConnectionError("target unreachable")


@jobs.handler("test.permanent")
def _permanent(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    raise jobs.PermanentFailure("target deleted")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


def _job(app: FastAPI, job_id: int) -> Job:
    with app.state.registry.db.read() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_enqueued_job_runs_once(app: FastAPI, clock: FrozenClock) -> None:
    reg = app.state.registry
    with reg.db.write() as s:
        job = jobs.do_enqueue(s, "test.ok", {"n": 1}, clock.now())
        assert job is not None
        job_id = job.id
    assert jobs.run_due(reg) == 1
    assert jobs.run_due(reg) == 0
    assert CALLS == [("ok", {"n": 1}, 1)]
    assert _job(app, job_id).status == JobStatus.DONE.value


def test_rolled_back_enqueue_leaves_no_job(app: FastAPI, clock: FrozenClock) -> None:
    reg = app.state.registry

    def failing_request() -> None:
        with reg.db.write() as s:
            jobs.do_enqueue(s, "test.ok", {}, clock.now())
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        failing_request()
    assert jobs.run_due(reg) == 0


def test_failures_back_off_then_succeed(app: FastAPI, clock: FrozenClock) -> None:
    reg = app.state.registry
    with reg.db.write() as s:
        job = jobs.do_enqueue(s, "test.flaky", {"succeed_on": 3}, clock.now())
        assert job is not None
        job_id = job.id
    assert jobs.run_due(reg) == 1
    assert _job(app, job_id).status == JobStatus.PENDING.value
    assert jobs.run_due(reg) == 0  # not due yet: backoff
    clock.advance(jobs.backoff(1).total_seconds())
    assert jobs.run_due(reg) == 1
    clock.advance(jobs.backoff(2).total_seconds())
    assert jobs.run_due(reg) == 1
    assert [c[2] for c in CALLS] == [1, 2, 3]
    assert _job(app, job_id).status == JobStatus.DONE.value


def test_gives_up_after_max_attempts_or_permanent_failure(app: FastAPI, clock: FrozenClock) -> None:
    reg = app.state.registry
    with reg.db.write() as s:
        flaky = jobs.do_enqueue(s, "test.flaky", {"succeed_on": 99}, clock.now(), max_attempts=2)
        perm = jobs.do_enqueue(s, "test.permanent", {}, clock.now())
        assert flaky is not None
        assert perm is not None
        ids = flaky.id, perm.id
    jobs.run_due(reg)
    clock.advance(3600)
    jobs.run_due(reg)
    dead = [_job(app, i) for i in ids]
    assert [j.status for j in dead] == [JobStatus.DEAD.value, JobStatus.DEAD.value]
    assert dead[0].last_error is not None
    assert "ConnectionError" in dead[0].last_error
    assert dead[1].attempts == 1


def test_dedupe_key_enqueues_once(app: FastAPI, clock: FrozenClock) -> None:
    reg = app.state.registry
    with reg.db.write() as s:
        assert jobs.do_enqueue(s, "test.ok", {}, clock.now(), dedupe_key="k1") is not None
        assert jobs.do_enqueue(s, "test.ok", {}, clock.now(), dedupe_key="k1") is None
    assert jobs.run_due(reg) == 1


def test_recurring_jobs_are_queued_once_per_day(app: FastAPI) -> None:
    from sqlalchemy import select

    from parley.jobs.recurring import do_ensure_recurring

    reg = app.state.registry
    do_ensure_recurring(reg)
    do_ensure_recurring(reg)  # a second instance or a restart
    with reg.db.read() as s:
        kinds = sorted(s.scalars(select(Job.kind).where(Job.status == JobStatus.PENDING.value)))
    assert kinds == ["notifications.digest", "privacy.purge"]
