"""Loaders for the labelled data the classifiers learn from and are measured on.

Every loader returns a :class:`Dataset`: parallel lists of texts and binary labels (1 = the
positive class of the task: offensive, toxic, engaging, fact-claiming, hateful). The public sets are
read from a directory the caller supplies (``--data`` or ``PARLEY_DATA_DIR``); the package never
guesses a path of its own. Formats follow each set's ``PROVENANCE.md``:

- ``germeval2018/`` tab-separated ``text<TAB>coarse<TAB>fine``, no quoting (tweets contain ``"``),
- ``germeval2021/`` RFC-4180 CSV with CRLF and multi-line quoted texts,
- ``hatecheck/`` CSV (German Multilingual HateCheck; English HateCheck), test only,
- ``olid/`` tab-separated, no quoting; test texts and gold labels in separate files,
- a publisher's own export: JSONL or CSV with ``text`` and either ``label`` (0/1) or a moderation
  ``status`` (approved/rejected), see :func:`load_export`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from parley.classifiers.errors import DataError
from parley.classifiers.tasks import Task

GERMEVAL2021_COLUMNS: Mapping[Task, str] = {
    Task.TOXIC: "Sub1_Toxic",
    Task.ENGAGING: "Sub2_Engaging",
    Task.FACT_CLAIM: "Sub3_FactClaiming",
}

_MENTION_RE = re.compile(r"@\w+")

# Moderation statuses of an export of moderated comments, mapped to the "should have been held" label.
_POSITIVE_STATUSES = frozenset(
    {"rejected", "reject", "removed", "deleted", "spam", "blocked", "held_rejected"}
)
_NEGATIVE_STATUSES = frozenset({"approved", "approve", "published", "publish", "accepted", "visible"})


@dataclass(frozen=True)
class Dataset:
    """Parallel texts and 0/1 labels, plus optional per-item metadata (e.g. HateCheck functionality)."""

    name: str
    texts: list[str]
    labels: list[int]
    meta: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise DataError(f"{self.name}: {len(self.texts)} texts but {len(self.labels)} labels")
        if self.meta and len(self.meta) != len(self.texts):
            raise DataError(f"{self.name}: metadata does not match the texts")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def positives(self) -> int:
        return sum(self.labels)

    def subset(self, indices: Iterable[int], name: str | None = None) -> Dataset:
        idx = list(indices)
        return Dataset(
            name=name or self.name,
            texts=[self.texts[i] for i in idx],
            labels=[self.labels[i] for i in idx],
            meta=[self.meta[i] for i in idx] if self.meta else [],
        )

    def concat(self, other: Dataset, name: str | None = None) -> Dataset:
        meta: list[dict[str, str]] = []
        if self.meta or other.meta:
            meta = (self.meta or [{} for _ in self.texts]) + (other.meta or [{} for _ in other.texts])
        return Dataset(
            name=name or f"{self.name}+{other.name}",
            texts=self.texts + other.texts,
            labels=self.labels + other.labels,
            meta=meta,
        )


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    return path


def load_germeval2018(root: Path, split: str) -> Dataset:
    """GermEval 2018 coarse task: OFFENSE → 1, OTHER → 0. ``split`` is ``train`` or ``test``.

    ``meta`` holds the fine label (``fine``: OTHER/ABUSE/INSULT/PROFANITY) and ``group``, the first
    @-addressed account (empty when there is none), for grouped cross-validation.
    """
    names = {"train": "germeval2018.training.txt", "test": "germeval2018.test.txt"}
    if split not in names:
        raise DataError(f"germeval2018 has no split {split!r} (train, test)")
    path = _require(root / "germeval2018" / names[split])
    texts: list[str] = []
    labels: list[int] = []
    meta: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[1] not in ("OFFENSE", "OTHER"):
                raise DataError(f"{path.name}:{lineno}: expected text<TAB>OFFENSE|OTHER<TAB>fine")
            texts.append(parts[0])
            labels.append(1 if parts[1] == "OFFENSE" else 0)
            mention = _MENTION_RE.search(parts[0])
            # group: the first account the tweet addresses (cross-validation keeps a conversation
            # in one fold, as the test split has other conversations); none → a group of its own
            meta.append({"fine": parts[2], "group": mention.group().lower() if mention else ""})
    return Dataset(f"germeval2018-{split}", texts, labels, meta)


def load_germeval2021(root: Path, split: str, task: Task) -> Dataset:
    """GermEval 2021, one of its three binary subtasks (toxic, engaging, fact_claim)."""
    names = {"train": "GermEval21_TrainData.csv", "test": "GermEval21_TestData.csv"}
    if split not in names:
        raise DataError(f"germeval2021 has no split {split!r} (train, test)")
    if task not in GERMEVAL2021_COLUMNS:
        raise DataError(f"germeval2021 has no labels for task {task.value!r}")
    column = GERMEVAL2021_COLUMNS[task]
    path = _require(root / "germeval2021" / names[split])
    texts: list[str] = []
    labels: list[int] = []
    meta: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["comment_text"])
            labels.append(_binary(row[column], path.name))
            meta.append({"id": row["comment_id"]})
    return Dataset(f"germeval2021-{task.value}-{split}", texts, labels, meta)


def load_hatecheck(root: Path, lang: str = "de", *, exclude_disputed: bool = False) -> Dataset:
    """HateCheck functional tests (test only): hateful → 1.

    ``meta`` carries ``case_id``, ``functionality`` and ``ref_case_id`` (the plain case an evasion
    variant derives from). ``exclude_disputed`` drops German cases whose annotator majority differs
    from the gold label.
    """
    if lang == "de":
        path = _require(root / "hatecheck" / "hatecheck_cases_final_german.csv")
    elif lang == "en":
        path = _require(root / "hatecheck" / "test_suite_cases.csv")
    else:
        raise DataError(f"hatecheck has no language {lang!r} (de, en)")
    texts: list[str] = []
    labels: list[int] = []
    meta: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if lang == "de":
                if exclude_disputed and row.get("disagreement_in_case") == "True":
                    continue
                case_id = row["mhc_case_id"].removeprefix("german-")
            else:
                case_id = row["case_id"]
            ref = row.get("ref_case_id") or ""
            texts.append(row["test_case"])
            labels.append(1 if row["label_gold"] == "hateful" else 0)
            meta.append(
                {
                    "case_id": case_id,
                    "functionality": row["functionality"],
                    "ref_case_id": str(int(float(ref))) if ref else "",
                }
            )
    return Dataset(f"hatecheck-{lang}", texts, labels, meta)


def load_olid(root: Path, split: str) -> Dataset:
    """OLID / OffensEval 2019 sub-task A (English): OFF → 1, NOT → 0."""
    base = root / "olid"
    texts: list[str] = []
    labels: list[int] = []
    if split == "train":
        path = _require(base / "olid-training-v1.0.tsv")
        for row in _tsv_rows(path):
            texts.append(row["tweet"])
            labels.append(_olid_label(row["subtask_a"], path.name))
    elif split == "test":
        gold: dict[str, int] = {}
        labels_path = _require(base / "labels-levela.csv")
        with labels_path.open(encoding="utf-8", newline="") as fh:
            for rec in csv.reader(fh):
                if rec:
                    gold[rec[0]] = _olid_label(rec[1], labels_path.name)
        path = _require(base / "testset-levela.tsv")
        for row in _tsv_rows(path):
            if row["id"] not in gold:
                raise DataError(f"{path.name}: no gold label for id {row['id']}")
            texts.append(row["tweet"])
            labels.append(gold[row["id"]])
    else:
        raise DataError(f"olid has no split {split!r} (train, test)")
    return Dataset(f"olid-{split}", texts, labels)


def _tsv_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = fh.readline().rstrip("\r\n").split("\t")
        for lineno, raw in enumerate(fh, 2):
            line = raw.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != len(header):
                raise DataError(f"{path.name}:{lineno}: expected {len(header)} tab-separated fields")
            yield dict(zip(header, parts, strict=True))


def _olid_label(value: str, source: str) -> int:
    if value == "OFF":
        return 1
    if value == "NOT":
        return 0
    raise DataError(f"{source}: unexpected OLID label {value!r}")


def _binary(value: object, source: str) -> int:
    """Accept 0/1, booleans and their common spellings; anything else is a data error."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "yes", "offense", "off", "toxic"):
        return 1
    if text in ("0", "0.0", "false", "no", "other", "not"):
        return 0
    raise DataError(f"{source}: label must be 0 or 1, got {value!r}")


def _status_label(value: object, source: str) -> int:
    status = str(value).strip().lower()
    if status in _POSITIVE_STATUSES:
        return 1
    if status in _NEGATIVE_STATUSES:
        return 0
    raise DataError(f"{source}: unknown moderation status {value!r} (approved/published or rejected)")


def load_export(path: Path, *, label_field: str = "label", text_field: str = "text") -> Dataset:
    """A publisher's own labelled comments, JSONL (``.jsonl``/``.ndjson``) or CSV.

    Each record needs ``text`` and either ``label`` (0/1; 1 = should be held) or ``status`` — the
    moderation outcome of an export of approved/rejected comments (``rejected``/``removed``/``spam``
    → 1, ``approved``/``published`` → 0). Comments still pending are skipped: nobody decided them.
    """
    _require(path)
    records: Iterable[Mapping[str, object]]
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        records = _jsonl_records(path)
    elif path.suffix.lower() in (".csv", ".tsv"):
        records = _csv_records(path, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    else:
        raise DataError(f"{path.name}: unsupported export format (use .jsonl or .csv)")
    texts: list[str] = []
    labels: list[int] = []
    for n, rec in enumerate(records, 1):
        where = f"{path.name}:{n}"
        text = rec.get(text_field)
        if not isinstance(text, str):
            raise DataError(f"{where}: missing text field {text_field!r}")
        if label_field in rec and rec[label_field] not in (None, ""):
            label = _binary(rec[label_field], where)
        elif "status" in rec:
            if str(rec["status"]).strip().lower() in ("pending", "held", "queued", ""):
                continue
            label = _status_label(rec["status"], where)
        else:
            raise DataError(f"{where}: needs {label_field!r} (0/1) or 'status' (approved/rejected)")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise DataError(f"{path.name}: no labelled comments")
    return Dataset(f"export-{path.stem}", texts, labels)


def _jsonl_records(path: Path) -> Iterator[Mapping[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path.name}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{path.name}:{lineno}: expected a JSON object")
            yield rec


def _csv_records(path: Path, delimiter: str) -> Iterator[Mapping[str, object]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh, delimiter=delimiter)
