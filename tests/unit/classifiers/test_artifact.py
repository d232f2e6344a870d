"""The artifact round-trips without pickles and refuses what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from parley.classifiers import artifact
from parley.classifiers.errors import ArtifactError, ModelNotFound
from parley.classifiers.loader import SHIPPED_DIR, find_model, load_classifier
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task

TEXTS = ["Du bist ein Trottel", "Danke für den Artikel", "", "ÄÖÜ ß 😂 @someone https://example.org"]


def test_round_trip_scores_match(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    header, arrays = artifact.save(tiny_model, tmp_path)
    assert header.name == "offense.json"
    assert arrays.name == "offense.npz"
    loaded = artifact.load(tmp_path, Task.OFFENSE)
    assert loaded.version == "tiny-1"
    assert loaded.threshold == tiny_model.threshold
    # weights are stored as float16: scores agree to about 1e-3
    np.testing.assert_allclose(loaded.score(TEXTS), tiny_model.score(TEXTS), atol=5e-3)
    with np.load(arrays, allow_pickle=False) as npz:  # loads without pickle
        assert all(npz[k].dtype != object for k in npz.files)


def test_unknown_format_is_refused(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    header, _ = artifact.save(tiny_model, tmp_path)
    data = json.loads(header.read_text())
    data["format_version"] = 99
    header.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="format version"):
        artifact.load(tmp_path, Task.OFFENSE)


def test_truncated_arrays_are_refused(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    _, arrays = artifact.save(tiny_model, tmp_path)
    arrays.write_bytes(arrays.read_bytes()[:100])
    with pytest.raises(ArtifactError):
        artifact.load(tmp_path, Task.OFFENSE)


def test_user_models_come_before_shipped_ones(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    artifact.save(tiny_model, tmp_path)
    assert find_model(Task.OFFENSE, tmp_path) == tmp_path
    assert load_classifier(Task.OFFENSE, tmp_path, cache=False).version == "tiny-1"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_model(Task.OFFENSE, empty) == SHIPPED_DIR


def test_missing_model_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="parley model train --task toxic"):
        find_model(Task.TOXIC, tmp_path)
