"""The ``parley model predict`` contract: same order, one line out per line in, bad lines reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.classifiers import artifact
from parley.classifiers.cli import app
from parley.classifiers.model import LinearEnsemble


def _run(args: list[str], stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, args, input=stdin)
    return result.exit_code, result.stdout


def test_predict_keeps_order_and_reports_bad_lines(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    artifact.save(tiny_model, tmp_path)
    lines = [
        json.dumps({"id": "a", "text": "Du bist ein Trottel"}),
        "this is not json",
        json.dumps({"id": 2, "text": "Danke für den Artikel"}),
        json.dumps({"id": "c"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "no id"}),
        json.dumps({"id": "e", "text": ""}),
    ]
    code, out = _run(["predict", "--task", "offense", "--model-dir", str(tmp_path)], "\n".join(lines) + "\n")
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == len(lines)
    assert [r.get("id") for r in rows] == ["a", None, 2, "c", None, None, "e"]
    assert set(rows[0]) == {"id", "label", "score"}
    assert rows[0]["label"] in (0, 1)
    assert isinstance(rows[0]["score"], float)
    assert rows[0]["score"] > rows[2]["score"]
    assert rows[0]["label"] == int(rows[0]["score"] >= tiny_model.threshold)
    for bad in (1, 3, 4, 5):
        assert "error" in rows[bad]
        assert "label" not in rows[bad]


def test_predict_batches_many_lines_in_order(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    artifact.save(tiny_model, tmp_path)
    lines = [json.dumps({"id": i, "text": "Trottel" if i % 2 else "Danke"}) for i in range(600)]
    code, out = _run(["predict", "--task", "offense", "--model-dir", str(tmp_path)], "\n".join(lines))
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["id"] for r in rows] == list(range(600))


def test_eval_on_an_export_prints_the_official_metric(tiny_model: LinearEnsemble, tmp_path: Path) -> None:
    artifact.save(tiny_model, tmp_path)
    export = tmp_path / "export.jsonl"
    export.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"text": "Du bist ein Trottel", "status": "rejected"},
                {"text": "Danke für den Artikel", "status": "approved"},
                {"text": "so ein Idiot", "label": 1},
                {"text": "noch offen", "status": "pending"},
            ]
        )
    )
    code, out = _run(
        ["eval", "--task", "offense", "--model-dir", str(tmp_path), "--data", str(export), "--json"]
    )
    assert code == 0
    result = json.loads(out)
    assert result["n"] == 3
    assert {"official_f1_macro_pr", "per_class", "confusion"} <= set(result)


def test_train_on_an_export(tmp_path: Path) -> None:
    export = tmp_path / "moderated.csv"
    rows = ["text,status"]
    for i in range(12):
        rows.append(f"du Trottel nummer {i},rejected")
        rows.append(f"danke für den Artikel {i},approved")
    export.write_text("\n".join(rows) + "\n")
    code, out = _run(
        ["train", "--task", "toxic", "--data", str(export), "--out", str(tmp_path / "m"), "--json"]
    )
    assert code == 0, out
    assert json.loads(out)["n_train"] == 24
    assert (tmp_path / "m" / "toxic.npz").is_file()


def test_missing_data_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEY_DATA_DIR", raising=False)
    code, _ = _run(["train", "--task", "offense"])
    assert code == 2


def test_the_cli_module_imports_nothing_heavy() -> None:
    """``parley --help`` imports this module: training and scoring libraries load in the commands."""
    import subprocess
    import sys

    code = (
        "import sys, parley.classifiers.cli, parley.moderation.phases.classifier;"
        "print(sorted(m for m in ('sklearn', 'scipy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scoring_needs_no_scikit_learn_nor_scipy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from parley.classifiers.loader import load_classifier;"
        "m = load_classifier(__import__('parley.classifiers.tasks').classifiers.tasks.Task.OFFENSE);"
        "m.score(['Du Trottel']); m.score_one('Danke');"
        "print(sorted(x for x in ('sklearn', 'scipy') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_data_directory_variable_is_the_recipes_one() -> None:
    from parley.classifiers import cli, recipes

    assert cli.DATA_DIR_ENV == recipes.DATA_DIR_ENV
