"""The classifier phase: result shape, thresholds from the site policy, fail closed, missing models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from parley.classifiers.errors import ModelNotFound
from parley.classifiers.interfaces import Classifier, NullClassifier
from parley.classifiers.settings import DEFAULT_HOLD_THRESHOLD, ClassifierPolicy, TaskSettings
from parley.classifiers.tasks import Task
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.messages import render_reason
from parley.moderation.phases.classifier import ClassifierPhase, _policy, classifier_phases
from parley.moderation.pipeline import Pipeline
from parley.moderation.policy import ModerationPolicy
from parley.moderation.types import FailMode, Verdict


class FixedClassifier:
    def __init__(self, task: Task, value: float, threshold: float = 0.5) -> None:
        self.task = task
        self.version = f"{task.value}-fixed"
        self.threshold = threshold
        self.value = value

    def score(self, texts: Sequence[str]) -> list[float]:
        return [self.value for _ in texts]


class BrokenClassifier(FixedClassifier):
    def score(self, texts: Sequence[str]) -> list[float]:
        raise RuntimeError("corrupt weights")


def ctx(
    text: str = "irgendein Kommentar",
    classifiers: ClassifierPolicy | None = None,
    policy: ModerationPolicy | None = None,
) -> ModerationContext:
    pol = policy or ModerationPolicy()
    if classifiers is not None:
        pol = pol.model_copy(update={"classifier": classifiers})
    return ModerationContext(
        text=text,
        source=text,
        author=AuthorInfo(account_id=1, name="a"),
        thread=ThreadInfo(id=1, key="t", site_id=1),
        policy=pol,
        now=datetime(2026, 3, 15, tzinfo=UTC),
    )


def phase(task: Task, value: float, threshold: float = 0.5) -> ClassifierPhase:
    return ClassifierPhase(task, factory=lambda t: FixedClassifier(t, value, threshold))


def test_offensive_score_above_the_site_hold_threshold_holds_with_params() -> None:
    result = phase(Task.OFFENSE, 0.91).run(ctx())
    assert result.verdict is Verdict.HOLD
    assert result.scores == {"offense": 0.91}
    assert result.model_version == "offense-fixed"
    (reason,) = result.reasons
    assert reason.code == "offensive"
    assert reason.phase == "classifier_offense"
    assert reason.verdict is Verdict.HOLD
    # a holding task's default threshold is the site's hold_threshold (0.85 on a new site)
    assert dict(reason.params) == {"task": "offense", "score": 0.91, "threshold": DEFAULT_HOLD_THRESHOLD}
    assert "0.91" in reason.detail
    assert reason.public() == {"phase": "classifier_offense", "code": "offensive", "detail": reason.detail}


def test_below_threshold_publishes_without_a_reason_but_keeps_the_score() -> None:
    for value in (0.2, 0.84):
        result = phase(Task.TOXIC, value).run(ctx())
        assert result.verdict is Verdict.PUBLISH
        assert result.reasons == ()
        assert result.scores == {"toxic": value}
        assert result.model_version == "toxic-fixed"


def test_toxic_holds_with_reason_toxic() -> None:
    result = phase(Task.TOXIC, 0.95).run(ctx())
    assert (result.verdict, result.reasons[0].code) == (Verdict.HOLD, "toxic")


def test_fact_claim_is_flagged_at_the_model_threshold_not_held() -> None:
    result = phase(Task.FACT_CLAIM, 0.6, threshold=0.5).run(ctx())
    assert result.verdict is Verdict.PUBLISH
    assert result.reasons[0].code == "fact_claim"
    assert result.reasons[0].verdict is Verdict.PUBLISH
    assert result.reasons[0].params["threshold"] == 0.5
    assert phase(Task.FACT_CLAIM, 0.4, threshold=0.5).run(ctx()).reasons == ()


def test_a_task_that_neither_holds_nor_flags_only_records_its_score() -> None:
    quiet = ClassifierPolicy(offense=TaskSettings(hold=False, flag=False))
    result = phase(Task.OFFENSE, 0.99).run(ctx(classifiers=quiet))
    assert (result.verdict, result.reasons, result.scores) == (Verdict.PUBLISH, (), {"offense": 0.99})


def test_reject_threshold_rejects_and_says_so() -> None:
    strict = ClassifierPolicy(reject_threshold=0.97)
    result = phase(Task.OFFENSE, 0.98).run(ctx(classifiers=strict))
    assert result.verdict is Verdict.REJECT
    assert result.reasons[0].params["threshold"] == 0.97
    assert phase(Task.OFFENSE, 0.95).run(ctx(classifiers=strict)).verdict is Verdict.HOLD
    # a flagging task never rejects
    assert phase(Task.FACT_CLAIM, 0.99).run(ctx(classifiers=strict)).verdict is Verdict.PUBLISH


def test_site_threshold_overrides_the_defaults() -> None:
    strict = ClassifierPolicy(offense=TaskSettings(threshold=0.95))
    assert phase(Task.OFFENSE, 0.91).run(ctx(classifiers=strict)).verdict is Verdict.PUBLISH
    lax = ClassifierPolicy(offense=TaskSettings(threshold=0.3))
    result = phase(Task.OFFENSE, 0.31, threshold=0.9).run(ctx(classifiers=lax))
    assert result.verdict is Verdict.HOLD
    assert result.reasons[0].params["threshold"] == 0.3
    site = ClassifierPolicy(hold_threshold=0.8)  # the workspace's "Classifier: hold at score"
    assert phase(Task.OFFENSE, 0.85).run(ctx(classifiers=site)).verdict is Verdict.HOLD


def test_reasons_render_in_german_and_english() -> None:
    (reason,) = phase(Task.OFFENSE, 0.934).run(ctx()).reasons
    english = render_reason(reason, "en")
    german = render_reason(reason, "de")
    assert english == reason.detail
    assert "0.93" in english
    assert f"{DEFAULT_HOLD_THRESHOLD:.2f}" in english
    assert "beleidigende Sprache" in german
    assert "0.93" in german
    (flag,) = phase(Task.FACT_CLAIM, 0.7).run(ctx()).reasons
    assert "Tatsachenbehauptungen" in render_reason(flag, "de")


def test_master_switch_turns_every_task_off() -> None:
    pol = ModerationPolicy.model_validate({"classifier": {"enabled": False}})
    assert isinstance(pol.classifier, ClassifierPolicy)
    for task in Task:
        assert phase(task, 0.99).run(ctx(policy=pol)).scores == {}


def test_disabled_task_does_nothing() -> None:
    off = ClassifierPolicy(offense=TaskSettings(enabled=False))
    assert phase(Task.OFFENSE, 0.99).run(ctx(classifiers=off)).scores == {}


def test_a_broken_model_fails_closed_in_the_pipeline() -> None:
    broken = ClassifierPhase(Task.OFFENSE, factory=lambda t: BrokenClassifier(t, 0.0))
    assert broken.fail_mode is FailMode.CLOSED
    decision = Pipeline([broken]).run(ctx())
    assert decision.verdict is Verdict.HOLD
    assert decision.reasons[0].code == "phase_failed"
    assert decision.failed_phases == ["classifier_offense"]


def test_a_missing_model_is_skipped_unless_policy_says_hold() -> None:
    def missing(task: Task) -> Classifier:
        raise ModelNotFound("no model")

    skipped = ClassifierPhase(Task.TOXIC, factory=missing).run(ctx())
    assert skipped.verdict is Verdict.PUBLISH
    assert "model_missing:toxic" in skipped.tags
    strict = ClassifierPolicy(missing_model_fails=True)
    decision = Pipeline([ClassifierPhase(Task.TOXIC, factory=missing)]).run(ctx(classifiers=strict))
    assert decision.verdict is Verdict.HOLD


def test_one_phase_per_task_with_distinct_names() -> None:
    names = [p.name for p in classifier_phases()]
    assert names == ["classifier_offense", "classifier_toxic", "classifier_fact_claim", "classifier_engaging"]


def test_policy_defaults_of_a_new_site() -> None:
    pol = ModerationPolicy().classifier
    assert isinstance(pol, ClassifierPolicy)
    assert pol.hold_threshold == DEFAULT_HOLD_THRESHOLD
    assert pol.reject_threshold is None
    assert pol.offense.hold
    assert pol.toxic.hold
    assert pol.fact_claim.enabled
    assert not pol.fact_claim.hold
    assert not pol.engaging.enabled
    assert isinstance(_policy(ctx()), ClassifierPolicy)


@pytest.mark.parametrize("task", list(Task))
def test_null_classifier_satisfies_the_protocol(task: Task) -> None:
    null = NullClassifier(task)
    assert isinstance(null, Classifier)
    assert null.score(["a", "b"]) == [0.0, 0.0]
    assert ClassifierPhase(task, factory=lambda t: NullClassifier(t)).run(ctx()).verdict is Verdict.PUBLISH


class CountingClassifier(FixedClassifier):
    calls = 0

    def score(self, texts: Sequence[str]) -> list[float]:
        CountingClassifier.calls += 1
        return super().score(texts)


def test_prepare_scores_ahead_and_run_decides_with_that_score() -> None:
    CountingClassifier.calls = 0
    model = CountingClassifier(Task.OFFENSE, 0.91)
    p = ClassifierPhase(Task.OFFENSE, factory=lambda t: model)
    c = ctx()
    p.prepare(c)
    assert CountingClassifier.calls == 1
    result = p.run(c)
    assert CountingClassifier.calls == 1  # scored once, ahead
    assert result.verdict is Verdict.HOLD
    assert result.scores == {"offense": 0.91}
    # a score memoized under another model version (a model retrained meanwhile) is not used
    model.version = "offense-retrained"
    p.run(c)
    assert CountingClassifier.calls == 2


def test_prepare_skips_disabled_tasks_and_missing_models() -> None:
    def missing(task: Task) -> Classifier:
        raise ModelNotFound("no model")

    c = ctx(classifiers=ClassifierPolicy(offense=TaskSettings(enabled=False)))
    ClassifierPhase(Task.OFFENSE, factory=lambda t: BrokenClassifier(t, 0.0)).prepare(c)  # not even loaded
    ClassifierPhase(Task.TOXIC, factory=missing).prepare(c)
    assert not any(k.startswith("classifier.score") for k in c.memo)
