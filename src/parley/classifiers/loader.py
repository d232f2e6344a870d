"""Finding and loading a task's model: the publisher's own models first, then the shipped ones.

Search order for ``<task>.json`` + ``<task>.npz``:

1. the directory passed in (``--model-dir``), else ``$PARLEY_MODEL_DIR``, else ``var/models``
   relative to the working directory — where ``parley model train`` writes by default;
2. the artifacts shipped inside the package (``parley/classifiers/artifacts/``), which hold only
   models trained on data whose license allows redistribution (GermEval 2018 offense).

Loaded models are cached per path, so the moderation phase pays the load cost once per process.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from parley.classifiers import artifact
from parley.classifiers.errors import ModelNotFound
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task

SHIPPED_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_MODEL_DIR = Path("var/models")
MODEL_DIR_ENV = "PARLEY_MODEL_DIR"

_cache: dict[tuple[Path, Task], LinearEnsemble] = {}
_lock = threading.Lock()


def user_model_dir(model_dir: Path | None = None) -> Path:
    """Where trained models go and are looked for first."""
    if model_dir is not None:
        return model_dir
    env = os.environ.get(MODEL_DIR_ENV)
    return Path(env) if env else DEFAULT_MODEL_DIR


def search_path(model_dir: Path | None = None) -> list[Path]:
    return [user_model_dir(model_dir), SHIPPED_DIR]


def find_model(task: Task, model_dir: Path | None = None) -> Path:
    """The first directory of :func:`search_path` holding a complete artifact for ``task``."""
    for directory in search_path(model_dir):
        header, arrays = artifact.paths_for(directory, task)
        if header.is_file() and arrays.is_file():
            return directory
    where = ", ".join(str(d) for d in search_path(model_dir))
    raise ModelNotFound(
        f"no model for task {task.value!r} in {where}; run `parley model train --task {task.value}`"
    )


def load_classifier(task: Task, model_dir: Path | None = None, *, cache: bool = True) -> LinearEnsemble:
    """Load (or return the cached) model for ``task``."""
    directory = find_model(task, model_dir).resolve()
    key = (directory, task)
    if cache:
        with _lock:
            hit = _cache.get(key)
            if hit is not None:
                return hit
    model = artifact.load(directory, task)
    if cache:
        with _lock:
            _cache[key] = model
    return model


def clear_cache() -> None:
    with _lock:
        _cache.clear()
