"""The pipeline observer counts runs, failures and latency per phase; two apps never share metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.pipeline import Pipeline
from parley.moderation.policy import ModerationPolicy
from parley.moderation.types import FailMode, PhaseResult, Verdict
from parley.observability.metrics import Metrics


class Fine:
    name = "fine"
    fail_mode = FailMode.OPEN

    def run(self, ctx: ModerationContext) -> PhaseResult:
        return PhaseResult.ok()


class Broken:
    name = "broken"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        raise RuntimeError("detector down")


def _ctx() -> ModerationContext:
    return ModerationContext(
        text="Hallo",
        source="Hallo",
        author=AuthorInfo(account_id=1, name="A"),
        thread=ThreadInfo(id=1, key="k", site_id=1),
        policy=ModerationPolicy(),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_runs_failures_and_latency_per_phase() -> None:
    metrics = Metrics()
    pipeline = Pipeline([Fine(), Broken()], observers=[metrics.observe_phase])
    for _ in range(3):
        decision = pipeline.run(_ctx())
    assert decision.verdict is Verdict.HOLD
    health = {h.phase: h for h in metrics.phase_health(["fine", "broken", "never"])}
    assert (health["fine"].runs, health["fine"].failures) == (3, 0)
    assert (health["broken"].runs, health["broken"].failures) == (3, 3)
    assert health["fine"].p95 is not None
    assert health["fine"].mean is not None
    assert health["never"].runs == 0
    assert health["never"].mean is None
    assert [h.phase for h in metrics.phase_health(["broken", "fine"])] == ["broken", "fine"]


def test_each_registry_has_its_own_collector() -> None:
    first, second = Metrics(), Metrics()
    Pipeline([Fine()], observers=[first.observe_phase]).run(_ctx())
    assert first.phase_health(["fine"])[0].runs == 1
    assert second.phase_health(["fine"])[0].runs == 0
