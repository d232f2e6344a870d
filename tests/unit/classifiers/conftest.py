"""Fixtures for the classifier tests: a tiny deterministic training set and a model trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.classifiers.data import Dataset
from parley.classifiers.features import FeatureSpec
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task
from parley.classifiers.train import MemberConfig, TrainConfig, train

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"

_OFFENSIVE = [
    "Du bist ein Trottel",
    "was für ein Idiot",
    "halt die Klappe du Vollpfosten",
    "dieser Politiker ist ein Verbrecher und Lügner",
    "ihr seid alle dumm wie Brot",
    "so ein Schwachkopf",
    "Du Arschloch",
    "verpiss dich du Penner",
    "die Regierung besteht nur aus Idioten",
    "was für ein dämlicher Trottel",
]
_CLEAN = [
    "Vielen Dank für den Artikel",
    "ich sehe das anders, aber gute Argumente",
    "wann beginnt die Sitzung morgen",
    "das Wetter in Berlin ist heute schön",
    "interessante Zahlen zur Arbeitslosigkeit",
    "ich stimme dem Autor zu",
    "gibt es dazu eine Quelle",
    "schöner Beitrag, danke",
    "der Zug nach Hamburg fährt um acht",
    "die Debatte war sachlich und fair",
]


def small_dataset(repeat: int = 3) -> Dataset:
    texts: list[str] = []
    labels: list[int] = []
    for i in range(repeat):
        for t in _OFFENSIVE:
            texts.append(f"{t} {'!' * i}")
            labels.append(1)
        for t in _CLEAN:
            texts.append(f"{t} {'.' * i}")
            labels.append(0)
    return Dataset("tiny", texts, labels)


SMALL_CONFIG = TrainConfig(
    features=FeatureSpec(min_df=1),
    members=(MemberConfig("tfidf", 3.0), MemberConfig("nb", 3.0, ("char", "word"))),
    folds="stratified",
    k=3,
    seed=7,
)


@pytest.fixture(scope="session")
def tiny_model() -> LinearEnsemble:
    model, _ = train(Task.OFFENSE, small_dataset(), SMALL_CONFIG, version="tiny-1")
    return model


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "germeval2018" / "germeval2018.test.txt").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA} (only developer machines and CI have it)")
    return SHARED_DATA
