"""Training is deterministic, and the model separates a toy training set."""

from __future__ import annotations

import numpy as np

from parley.classifiers.metrics import evaluate_labels, germeval_f1, tune_threshold
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task
from parley.classifiers.train import stratified_folds, stratified_split, train

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
