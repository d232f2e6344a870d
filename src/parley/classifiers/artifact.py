"""The on-disk model format: a JSON header plus an ``.npz`` of plain arrays. No pickles.

A model named ``offense`` is two files side by side::

    offense.json   header: format, task, version, threshold, feature spec, members, metrics,
                   training command and data, normalizer fingerprint
    offense.npz    arrays: n-gram vocabularies (UTF-8, newline-joined), idf, style scaling,
                   per member its weights (and NB ratio), stored as float16

Loading uses ``numpy.load(allow_pickle=False)`` and ``json``, so an artifact cannot run code, and it
does not depend on the scikit-learn version that trained it (nor imports it). float16 halves the
size of the committed artifact; scores differ from the float64 training model by about 1e-3, and
every figure that ``parley model eval`` reports is measured on the loaded (float16) artifact.

Saving is deterministic: the archive's entries carry a fixed date, the header holds no clock time,
and a model without a version string is named after a digest of its arrays
(``offense-3f2a…``). Training the same model twice therefore writes the same bytes, and
``make models`` leaves the committed artifact alone when nothing changed.

Format version 2 (round 2) adds ``cleaning`` (how the input is cleaned before folding) and a Platt
``calibration`` per member; version 1 files still load (placeholder cleaning, no calibration).
"""

from __future__ import annotations

import hashlib
import io
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
from parley.classifiers.text import CLEANING, normalizer_fingerprint

log = logging.getLogger(__name__)

FORMAT = "parley-linear-ensemble"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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
    """Write ``<task>.json`` and ``<task>.npz`` into ``directory`` (created if missing).

    Files whose bytes would not change are not rewritten (their modification time stays).
    """
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
        members.append(
            {"kind": m.kind, "intercept": m.intercept, "calibration": list(m.calibration), "params": m.params}
        )
    blob = _npz_bytes(arrays)
    info = model.info
    version = info.version or f"{info.task.value}-{hashlib.sha256(blob).hexdigest()[:10]}"
    model.info.version = version
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": info.task.value,
        "version": version,
        "threshold": info.threshold,
        "hold_threshold": info.hold_threshold,
        "trained_on": info.trained_on,
        "license": info.license,
        "seed": info.seed,
        "normalizer": info.normalizer,
        "normalizer_fingerprint": info.normalizer_fingerprint,
        "cleaning": info.cleaning,
        "features": feat.spec.to_json(),
        "n_char": feat.n_char,
        "n_word": feat.n_word,
        "members": members,
        "training": dict(info.training),
        "metrics": dict(info.metrics),
    }
    text = json.dumps(header, indent=2, sort_keys=False) + "\n"
    _write_if_changed(arrays_path, blob)
    _write_if_changed(header_path, text.encode("utf-8"))
    return header_path, arrays_path


def _npz_bytes(arrays: dict[str, Any]) -> bytes:
    """An ``.npz`` archive (what ``numpy.savez_compressed`` writes) with fixed entry dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.asanyarray(arrays[name]), allow_pickle=False)
            zf.writestr(entry, npy.getvalue())
    return buf.getvalue()


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def read_header(header_path: Path) -> dict[str, Any]:
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"cannot read model header {header_path.name}: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArtifactError(f"{header_path.name} is not a {FORMAT} header")
    if header.get("format_version") not in READABLE_VERSIONS:
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
            cal = m.get("calibration", [1.0, 0.0])
            members.append(
                LinearMember(
                    kind,
                    weights,
                    float(m["intercept"]),
                    ratio,
                    dict(m.get("params", {})),
                    (float(cal[0]), float(cal[1])),
                )
            )
        info = ModelInfo(
            task=Task(header["task"]),
            version=str(header["version"]),
            threshold=float(header["threshold"]),
            hold_threshold=None if header.get("hold_threshold") is None else float(header["hold_threshold"]),
            trained_on=str(header.get("trained_on", "")),
            license=str(header.get("license", "")),
            seed=int(header.get("seed", 0)),
            normalizer=str(header.get("normalizer", "")),
            normalizer_fingerprint=str(header.get("normalizer_fingerprint", "")),
            cleaning=str(header.get("cleaning", "placeholder")),
            training=header.get("training", {}),
            metrics=header.get("metrics", {}),
        )
        if info.cleaning not in CLEANING:
            raise ArtifactError(f"{header_path.name}: unknown cleaning {info.cleaning!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{header_path.name}: malformed artifact ({type(exc).__name__}: {exc})") from None
    if info.normalizer_fingerprint and info.normalizer_fingerprint != normalizer_fingerprint():
        # Still usable (folding changes are small), but the figures in the header may have moved.
        log.warning(
            "model %s was trained under a different text normalization; retrain or re-run eval",
            info.version,
        )
    return LinearEnsemble(info=info, featurizer=feat, members=members)
