"""Finding and loading a task's model: the publisher's own models first, then the shipped ones.

Search order for ``<task>.json`` + ``<task>.npz``:

1. the directory passed in (``--model-dir``), else ``$PARLEY_MODEL_DIR``, else ``var/models``
   relative to the working directory — where ``parley model train`` writes by default;
2. the artifacts shipped inside the package (``parley/classifiers/artifacts/``), which hold only
   models trained on data whose license allows redistribution (GermEval 2018 offense).

Loaded models are cached per process, so the moderation phase pays the load cost once; a task
without a model is remembered for :data:`MISSING_RECHECK_SECONDS`, so a site without (say) a
toxicity model does not look for its files for every comment, yet finds one trained meanwhile.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from parley.classifiers import artifact
from parley.classifiers.errors import ModelNotFound
from parley.classifiers.model import LinearEnsemble
from parley.classifiers.tasks import Task

SHIPPED_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_MODEL_DIR = Path("var/models")
MODEL_DIR_ENV = "PARLEY_MODEL_DIR"

MISSING_RECHECK_SECONDS = 30.0

_cache: dict[tuple[Path, Task], LinearEnsemble] = {}
_by_request: dict[tuple[str, Task], LinearEnsemble] = {}
_missing: dict[tuple[str, Task], tuple[float, str]] = {}
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
    request = (str(user_model_dir(model_dir)), task)
    if cache:
        with _lock:
            hit = _by_request.get(request)
            if hit is not None:
                return hit
            miss = _missing.get(request)
            if miss is not None and time.monotonic() - miss[0] < MISSING_RECHECK_SECONDS:
                raise ModelNotFound(miss[1])
    try:
        directory = find_model(task, model_dir).resolve()
    except ModelNotFound as exc:
        if cache:
            with _lock:
                _missing[request] = (time.monotonic(), str(exc))
        raise
    key = (directory, task)
    if cache:
        with _lock:
            hit = _cache.get(key)
            if hit is not None:
                _by_request[request] = hit
                return hit
    model = artifact.load(directory, task)
    if cache:
        with _lock:
            _cache[key] = model
            _by_request[request] = model
            _missing.pop(request, None)
    return model


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _by_request.clear()
        _missing.clear()
