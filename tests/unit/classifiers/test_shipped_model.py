"""The committed GermEval 2018 offense model: loads fast, resists spelling evasion, keeps its figure."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from parley.classifiers import artifact
from parley.classifiers.data import load_germeval2018
from parley.classifiers.evaluate import evaluate_model
from parley.classifiers.loader import SHIPPED_DIR
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task

PLAIN = "Du bist so ein Trottel, halt einfach die Klappe."
VARIANTS = [
    "Du bist so ein T r o t t e l, halt einfach die Klappe.",
    "Du bist so ein T.r.o.t.t.e.l, halt einfach die Klappe.",
    "Du bist so ein Tr0tt3l, halt einfach die Kl4ppe.",
    "Du bist so ein \u0422r\u043ett\u0435l, halt einfach die Klappe.",  # Cyrillic Т, о, е
    "Du bist so ein ＴＲＯＴＴＥＬ, halt einfach die Klappe.",
    "Du bist so ein Tro\u200bttel, halt einfach die Klappe.",
    "Du bist so ein Trooottel, halt einfach die Klappe.",
]


@pytest.fixture(scope="module")
def shipped() -> LinearEnsemble:
    return artifact.load(SHIPPED_DIR, Task.OFFENSE)


def test_shipped_artifact_is_small_and_loads_fast() -> None:
    header, arrays = artifact.paths_for(SHIPPED_DIR, Task.OFFENSE)
    assert header.stat().st_size + arrays.stat().st_size < 5_000_000
    # load time is a benchmark figure (benchmarks/); here only a bound that catches a pathological load
    t0 = time.perf_counter()
    model = artifact.load(SHIPPED_DIR, Task.OFFENSE)
    assert time.perf_counter() - t0 < 10.0
    assert model.task is Task.OFFENSE
    assert "CC BY 4.0" in model.info.license


@pytest.mark.parametrize("variant", VARIANTS)
def test_evasion_variants_score_like_the_plain_text(shipped: LinearEnsemble, variant: str) -> None:
    plain, evaded = shipped.score([PLAIN, variant])
    assert plain >= shipped.threshold
    # The folded words are identical; what still differs is the style row read from the text as
    # written (leetspeak adds digits: 0.059 for "Tr0tt3l … Kl4ppe" with the round 2 model).
    assert abs(plain - evaded) < 0.07


def test_controls_stay_below_the_threshold(shipped: LinearEnsemble) -> None:
    controls = [
        "Der Trottoir vor dem Rathaus wird morgen erneuert.",
        "Vielen Dank für den ausführlichen Bericht.",
    ]
    assert all(s < shipped.threshold for s in shipped.score(controls))


def test_committed_artifact_keeps_its_recorded_test_figure(
    shipped: LinearEnsemble, shared_data: Path
) -> None:
    recorded = json.loads((SHIPPED_DIR / "offense.eval.json").read_text())
    assert recorded["model_version"] == shipped.version
    report = evaluate_model(shipped, load_germeval2018(shared_data, "test"))
    assert abs(report.official - recorded["official_f1_macro_pr"]) <= 0.5
