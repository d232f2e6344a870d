"""The on-disk model format: a JSON header plus an ``.npz`` of plain arrays. No pickles.

A model named ``offense`` is two files side by side::

    offense.json   header: format, task, version, threshold, feature spec, members, metrics,
                   training command and data, normalizer fingerprint
    offense.npz    arrays: n-gram vocabularies (UTF-8, newline-joined), idf, style scaling,
                   per member its weights (and NB ratio), stored as float16

Loading uses ``numpy.load(allow_pickle=False)`` and ``json``, so an artifact cannot run code, and it
does not depend on the scikit-learn version that trained it. float16 halves the size of the
committed artifact; scores differ from the float64 training model by about 1e-3, and every figure
that ``parley model eval`` reports is measured on the loaded (float16) artifact.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from parley.classifiers.errors import ArtifactError
from parley.classifiers.features import FeatureSpec, Featurizer, vocab_from_list, vocab_list
from parley.classifiers.model import MEMBER_KINDS, LinearEnsemble, LinearMember, ModelInfo
from parley.classifiers.tasks import Task
from parley.classifiers.text import normalizer_fingerprint

log = logging.getLogger(__name__)

FORMAT = "parley-linear-ensemble"
FORMAT_VERSION = 1


def _blob(items: list[str]) -> np.ndarray[Any, Any]:
    if any("\n" in s for s in items):
        raise ArtifactError("an n-gram contains a newline; the vocabulary cannot be stored")
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _unblob(arr: np.ndarray[Any, Any]) -> list[str]:
    text = arr.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def paths_for(directory: Path, task: Task | str) -> tuple[Path, Path]:
    name = task.value if isinstance(task, Task) else task
    return directory / f"{name}.json", directory / f"{name}.npz"


def save(model: LinearEnsemble, directory: Path) -> tuple[Path, Path]:
    """Write ``<task>.json`` and ``<task>.npz`` into ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    header_path, arrays_path = paths_for(directory, model.task)
    feat = model.featurizer
    arrays: dict[str, Any] = {
        "char_vocab": _blob(vocab_list(feat.char_vocab)),
        "word_vocab": _blob(vocab_list(feat.word_vocab)),
        "idf": feat.idf.astype(np.float16),
        "style_mean": feat.style_mean.astype(np.float32),
        "style_std": feat.style_std.astype(np.float32),
    }
    members: list[dict[str, Any]] = []
    for i, m in enumerate(model.members):
        arrays[f"m{i}_weights"] = m.weights.astype(np.float16)
        if m.ratio is not None:
            arrays[f"m{i}_ratio"] = m.ratio.astype(np.float16)
        members.append({"kind": m.kind, "intercept": m.intercept, "params": m.params})
    info = model.info
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": info.task.value,
        "version": info.version,
        "threshold": info.threshold,
        "hold_threshold": info.hold_threshold,
        "trained_on": info.trained_on,
        "license": info.license,
        "created": info.created,
        "seed": info.seed,
        "normalizer": info.normalizer,
        "normalizer_fingerprint": info.normalizer_fingerprint,
        "features": feat.spec.to_json(),
        "n_char": feat.n_char,
        "n_word": feat.n_word,
        "members": members,
        "training": dict(info.training),
        "metrics": dict(info.metrics),
    }
    tmp = arrays_path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(arrays_path)
    header_path.write_text(json.dumps(header, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return header_path, arrays_path


def read_header(header_path: Path) -> dict[str, Any]:
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"cannot read model header {header_path.name}: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArtifactError(f"{header_path.name} is not a {FORMAT} header")
    if header.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{header_path.name}: unsupported format version {header.get('format_version')}")
    return header


def load(directory: Path, task: Task | str) -> LinearEnsemble:
    """Read a model saved by :func:`save`. Raises :class:`ArtifactError` on any inconsistency."""
    header_path, arrays_path = paths_for(directory, task)
    header = read_header(header_path)
    try:
        # Open the file ourselves: numpy leaks its handle when the archive is corrupt.
        with arrays_path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"cannot read model arrays {arrays_path.name}: {exc}") from None
    try:
        spec = FeatureSpec.from_json(header["features"])
        char_vocab = vocab_from_list(_unblob(arrays["char_vocab"]))
        word_vocab = vocab_from_list(_unblob(arrays["word_vocab"]))
        if len(char_vocab) != header["n_char"] or len(word_vocab) != header["n_word"]:
            raise ArtifactError(f"{arrays_path.name}: vocabulary sizes do not match the header")
        feat = Featurizer(
            spec=spec,
            char_vocab=char_vocab,
            word_vocab=word_vocab,
            idf=arrays["idf"].astype(np.float64),
            style_mean=arrays["style_mean"].astype(np.float64),
            style_std=arrays["style_std"].astype(np.float64),
        )
        if feat.idf.shape != (feat.n_ngrams,):
            raise ArtifactError(f"{arrays_path.name}: idf has the wrong length")
        members = []
        for i, m in enumerate(header["members"]):
            kind = m["kind"]
            if kind not in MEMBER_KINDS:
                raise ArtifactError(f"{header_path.name}: unknown member kind {kind!r}")
            weights = arrays[f"m{i}_weights"].astype(np.float64)
            expected = feat.n_features if kind == "tfidf" else feat.n_ngrams
            if weights.shape != (expected,):
                raise ArtifactError(
                    f"{arrays_path.name}: member {i} has {weights.shape[0]} weights, not {expected}"
                )
            ratio = arrays[f"m{i}_ratio"].astype(np.float64) if kind == "nb" else None
            members.append(
                LinearMember(kind, weights, float(m["intercept"]), ratio, dict(m.get("params", {})))
            )
        info = ModelInfo(
            task=Task(header["task"]),
            version=str(header["version"]),
            threshold=float(header["threshold"]),
            hold_threshold=None if header.get("hold_threshold") is None else float(header["hold_threshold"]),
            trained_on=str(header.get("trained_on", "")),
            license=str(header.get("license", "")),
            created=str(header.get("created", "")),
            seed=int(header.get("seed", 0)),
            normalizer=str(header.get("normalizer", "")),
            normalizer_fingerprint=str(header.get("normalizer_fingerprint", "")),
            training=header.get("training", {}),
            metrics=header.get("metrics", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{header_path.name}: malformed artifact ({type(exc).__name__}: {exc})") from None
    if info.normalizer_fingerprint and info.normalizer_fingerprint != normalizer_fingerprint():
        # Still usable (folding changes are small), but the figures in the header may have moved.
        log.warning(
            "model %s was trained under a different text normalization; retrain or re-run eval",
            info.version,
        )
    return LinearEnsemble(info=info, featurizer=feat, members=members)
