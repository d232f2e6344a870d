"""The shipped offense model on news-comment text: ordinary sentences publish, clear insults stand out.

``tests/data/neutral_de.jsonl`` holds ordinary German news-comment and news sentences (our own,
plus the seed article's paragraphs and its six comments) — politics, weather, sport, local news,
polite disagreement, and words with insult-like substrings (Analyse, Schwanzflosse, Trottoir,
Kanal, Sperre …). ``tests/data/offensive_de.jsonl`` holds clear insults in news-comment style.
Neither set is training data (docs/models.md); a third of each (``part: holdout``) was not looked at
while choosing models and thresholds.

At a new site's hold threshold (``ClassifierPolicy().hold_threshold``, ADR 0005) the model must hold
at most 2 % of the neutral set, and it must score the offensive set clearly higher.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parley.classifiers import artifact
from parley.classifiers.evaluate import load_sanity_set
from parley.classifiers.loader import SHIPPED_DIR
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.settings import ClassifierPolicy
from parley.classifiers.tasks import Task

DATA = Path(__file__).resolve().parents[2] / "data"
MAX_NEUTRAL_HELD = 0.02


@pytest.fixture(scope="module")
def shipped() -> LinearEnsemble:
    return artifact.load(SHIPPED_DIR, Task.OFFENSE)


@pytest.fixture(scope="module")
def neutral_scores(shipped: LinearEnsemble) -> np.ndarray:
    return shipped.score_array(load_sanity_set(DATA / "neutral_de.jsonl").texts)


@pytest.fixture(scope="module")
def offensive_scores(shipped: LinearEnsemble) -> np.ndarray:
    return shipped.score_array(load_sanity_set(DATA / "offensive_de.jsonl").texts)


def test_the_sets_are_what_the_docs_say() -> None:
    neutral = load_sanity_set(DATA / "neutral_de.jsonl")
    offensive = load_sanity_set(DATA / "offensive_de.jsonl")
    assert len(neutral) >= 250
    assert len(offensive) >= 60
    ids = [m["id"] for m in neutral.meta]
    assert {f"seed-{i}" for i in range(1, 7)} <= set(ids)
    assert any("Schwanzflosse" in t for t in neutral.texts)
    assert {m["part"] for m in neutral.meta} == {"dev", "holdout"}


def test_a_new_site_holds_almost_none_of_the_neutral_set(neutral_scores: np.ndarray) -> None:
    threshold = ClassifierPolicy().hold_threshold
    held = float((neutral_scores >= threshold).mean())
    assert held <= MAX_NEUTRAL_HELD, f"{held:.1%} of neutral sentences held at {threshold}"


def test_the_examples_from_the_bug_report_publish(shipped: LinearEnsemble) -> None:
    threshold = ClassifierPolicy().hold_threshold
    texts = [
        "Der Kanal ist wegen Hochwasser gesperrt.",
        "Die Analyse der Daten dauert noch.",
        "Der Trottoir ist nass.",
        "Schwanzflosse und Analyse sind harmlose Wörter.",
    ]
    assert all(s < threshold for s in shipped.score(texts))


def test_the_offensive_set_scores_clearly_higher(
    neutral_scores: np.ndarray, offensive_scores: np.ndarray
) -> None:
    # rank separation: a random insult outscores a random neutral sentence almost always
    auc = float((offensive_scores[:, None] > neutral_scores[None, :]).mean())
    assert auc >= 0.9
    assert np.median(offensive_scores) - np.median(neutral_scores) >= 0.3
    threshold = ClassifierPolicy().hold_threshold
    assert float((offensive_scores >= threshold).mean()) >= 0.2
