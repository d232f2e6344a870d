"""Loaders: the export adapter and the public sets' quirks (the latter only where the data exists)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.classifiers import data as d
from parley.classifiers.errors import DataError
from parley.classifiers.tasks import Task


def test_export_jsonl_with_labels_and_statuses(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    recs = [
        {"text": "a", "label": 1},
        {"text": "b", "label": 0},
        {"text": "c", "status": "rejected"},
        {"text": "d", "status": "approved"},
        {"text": "e", "status": "pending"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n\n")
    ds = d.load_export(path)
    assert ds.texts == ["a", "b", "c", "d"]
    assert ds.labels == [1, 0, 1, 0]


def test_export_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 7}\n')
    with pytest.raises(DataError, match=r"x\.jsonl:2"):
        d.load_export(path)
    path.write_text('{"text": "a", "status": "maybe"}\n')
    with pytest.raises(DataError, match="unknown moderation status"):
        d.load_export(path)


def test_public_sets_have_the_documented_counts(shared_data: Path) -> None:
    train = d.load_germeval2018(shared_data, "train")
    test = d.load_germeval2018(shared_data, "test")
    assert (len(train), train.positives, len(test), test.positives) == (5009, 1688, 3532, 1202)
    toxic = d.load_germeval2021(shared_data, "train", Task.TOXIC)
    fact = d.load_germeval2021(shared_data, "test", Task.FACT_CLAIM)
    assert (len(toxic), toxic.positives, len(fact), fact.positives) == (3244, 1122, 944, 314)
    hc = d.load_hatecheck(shared_data, "de")
    assert (len(hc), hc.positives) == (3645, 2550)
    assert sum(m["functionality"] == "spell_leet_h" for m in hc.meta) == 155
    olid = d.load_olid(shared_data, "test")
    assert (len(olid), olid.positives) == (860, 240)
