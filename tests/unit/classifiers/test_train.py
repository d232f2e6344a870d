"""Training is deterministic, and the model separates a toy training set."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from parley.classifiers.metrics import evaluate_labels, germeval_f1, tune_threshold
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task
from parley.classifiers.train import blocked_folds, stratified_folds, stratified_split, train

from .conftest import SMALL_CONFIG, small_dataset


def test_training_twice_gives_identical_scores() -> None:
    texts = ["du Trottel", "danke für den Artikel", "so ein Idiot!!", "wann ist die Sitzung"]
    a, _ = train(Task.OFFENSE, small_dataset(), SMALL_CONFIG)
    b, _ = train(Task.OFFENSE, small_dataset(), SMALL_CONFIG)
    assert a.score(texts) == b.score(texts)
    assert a.threshold == b.threshold


def test_model_separates_the_training_set(tiny_model: LinearEnsemble) -> None:
    scores = tiny_model.score(["Du bist ein Trottel", "Vielen Dank für den Artikel"])
    assert scores[0] > scores[1]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert tiny_model.score([]) == []


def test_split_is_seeded_stratified_and_disjoint() -> None:
    labels = [0] * 80 + [1] * 20
    tr, val = stratified_split(labels, 0.25, seed=3)
    assert stratified_split(labels, 0.25, seed=3) == (tr, val)
    assert not set(tr) & set(val)
    assert sorted(tr + val) == list(range(100))
    assert sum(labels[i] for i in val) == 5
    folds = stratified_folds(labels, 5, seed=3)
    held = sorted(i for _, h in folds for i in h)
    assert held == list(range(100))


def test_official_metric_is_f1_of_macro_precision_and_recall() -> None:
    gold = [1, 1, 1, 0, 0, 0, 0, 0]
    pred = [1, 0, 0, 0, 0, 0, 0, 1]
    # class 1: P=1/2, R=1/3; class 0: P=4/6, R=4/5 → macro P=7/12, R=17/30
    pm, rm = 7 / 12, 17 / 30
    assert abs(germeval_f1(gold, pred) - 100 * 2 * pm * rm / (pm + rm)) < 1e-9
    report = evaluate_labels(gold, pred)
    assert report.confusion == [[4, 1], [2, 1]]
    assert (
        abs(
            report.macro_f1
            - 100 * (2 * (1 / 2 * 1 / 3) / (1 / 2 + 1 / 3) + 2 * (4 / 6 * 4 / 5) / (4 / 6 + 4 / 5)) / 2
        )
        < 1e-9
    )


def test_threshold_tuning_picks_a_separating_threshold() -> None:
    gold = [0, 0, 0, 1, 1]
    scores = list(np.array([0.1, 0.2, 0.3, 0.7, 0.8]))
    threshold, best = tune_threshold(gold, scores)
    assert 0.3 < threshold <= 0.7
    assert best == 100.0


def test_blocked_folds_are_contiguous_and_cover_everything() -> None:
    folds = blocked_folds(10, 5)
    assert [held for _, held in folds] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert all(sorted(tr + held) == list(range(10)) for tr, held in folds)


def test_smoothed_threshold_still_separates_and_reports_the_raw_metric() -> None:
    gold = [0] * 50 + [1] * 50
    scores = [i / 200 for i in range(50)] + [0.6 + i / 200 for i in range(50)]
    threshold, metric = tune_threshold(gold, scores, smoothing=5)
    assert 0.245 < threshold <= 0.6
    assert metric == germeval_f1(gold, [int(s >= threshold) for s in scores])


def test_scoring_one_at_a_time_equals_scoring_a_batch(tiny_model: LinearEnsemble) -> None:
    texts = ["Du bist ein Trottel", "Danke! @x https://example.org 😂", "", "Lauter 1d1oten hier"]
    one_by_one = [tiny_model.score([t])[0] for t in texts]
    np.testing.assert_allclose(one_by_one, tiny_model.score(texts), atol=1e-12)


def test_models_sharing_a_memo_score_as_each_alone(tiny_model: LinearEnsemble) -> None:
    """The moderation phases score one comment with several models through one memo (the folded
    text, the n-gram counts and the style row computed once where they are the same): each score
    equals the model's own, also for models that clean the text differently."""
    other = replace(tiny_model, info=replace(tiny_model.info, cleaning="placeholder"))
    # scores that are not saturated, so the style row's part shows (the cleanings read it apart)
    texts = [
        "Danke @Max für den Link www.example.org",
        "RT @anna Guten Morgen allerseits",
        "Schöner Tag heute",
    ]
    for text in texts:
        memo: dict[str, Any] = {}
        together = [tiny_model.score_one(text, None, memo), other.score_one(text, None, memo)]
        alone = [tiny_model.score([text])[0], other.score([text])[0]]
        np.testing.assert_allclose(together, alone, atol=1e-12)
    assert other.score(texts[:1]) != tiny_model.score(texts[:1])  # the cleanings do differ here
