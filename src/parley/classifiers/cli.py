"""``parley model``: train, evaluate and run the classifiers.

- ``parley model train --task T [--data PATH] [--out DIR]`` trains a task's model. ``--data`` is a
  directory with the public sets (``germeval2018/``, ``germeval2021/``, ``olid/``) or a file: a
  publisher's export (JSONL/CSV with ``text`` and ``label`` or ``status``). Default: ``$PARLEY_DATA_DIR``.
  The model goes to ``--out`` (default ``$PARLEY_MODEL_DIR`` or ``var/models``).
- ``parley model eval --task T [--data PATH] [--json]`` prints the official metric (GermEval: F1 of
  macro-averaged precision and recall), per-class P/R/F1 and the confusion matrix on the test split,
  and for the offense task the HateCheck breakdown.
- ``parley model predict --task T < in.jsonl > out.jsonl``: ``{"id","text"}`` lines in,
  ``{"id","label","score"}`` lines out in the same order; a bad line gives ``{"id","error"}``.

Exit status: 0 success, 1 missing data or model, 2 bad usage. Comment texts are never logged.

Everything heavy (numpy, scipy, scikit-learn, the models) is imported inside the commands: the
``parley`` CLI imports this module at start-up, and ``parley --help`` must not pay for training code.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from parley.classifiers.errors import ClassifierError
from parley.classifiers.tasks import Task

if TYPE_CHECKING:
    from parley.classifiers.metrics import EvalReport
    from parley.classifiers.model import LinearEnsemble

DATA_DIR_ENV = "PARLEY_DATA_DIR"  # the same as parley.classifiers.recipes.DATA_DIR_ENV (a test checks)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Train, evaluate and run the classifiers.")

TaskOpt = Annotated[Task, typer.Option("--task", help="offense, toxic, engaging or fact_claim.")]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help=f"Data directory (public sets) or export file (default ${DATA_DIR_ENV})."),
]
ModelDirOpt = Annotated[
    Path | None, typer.Option("--model-dir", help="Trained models (default $PARLEY_MODEL_DIR or var/models).")
]
DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset", help="Public set to use: germeval2018, germeval2021, olid (default: the task's)."
    ),
]
PREDICT_BATCH = 256


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _data_path(data: Path | None) -> Path:
    if data is not None:
        return data
    env = os.environ.get(DATA_DIR_ENV)
    if not env:
        raise _fail(f"no data: pass --data PATH or set {DATA_DIR_ENV}", 2)
    return Path(env)


def _dataset_name(task: Task, dataset: str | None) -> str:
    from parley.classifiers.recipes import RECIPES

    name = dataset or RECIPES[task].dataset
    if name not in ("germeval2018", "germeval2021", "olid"):
        raise _fail(f"unknown dataset {name!r}", 2)
    return name


@app.command("train")
def train_command(
    task: TaskOpt,
    data: DataOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory for the model.")] = None,
    dataset: DatasetOpt = None,
    version: Annotated[str | None, typer.Option(help="Version string stored in the model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Train the model for TASK and write it to --out."""
    from parley.classifiers import artifact
    from parley.classifiers.data import load_export
    from parley.classifiers.loader import user_model_dir
    from parley.classifiers.recipes import EXPORT_CONFIG, LICENSES, RECIPES, aux_data, load_split
    from parley.classifiers.train import train as train_model

    path = _data_path(data)
    recipe = RECIPES[task]
    try:
        if path.is_file():
            train_set = load_export(path)
            config, aux, source, lic = EXPORT_CONFIG, None, f"export:{path.name}", LICENSES["export"]
        else:
            name = _dataset_name(task, dataset)
            train_set = load_split(task, name, path, "train")
            default_aux = name == recipe.dataset
            aux = aux_data(recipe, path) if default_aux else None
            config = recipe.config if default_aux else EXPORT_CONFIG
            source = f"{train_set.name}" + (f" + {aux.name} (weight {config.aux_weight})" if aux else "")
            lic = LICENSES[name]
        model, report = train_model(
            task, train_set, config, aux, version=version, trained_on=source, license=lic
        )
        target = out or user_model_dir()
        model.info.training = {
            **dict(model.info.training),
            "command": _train_command_line(task, path, dataset),
        }
        header, arrays = artifact.save(model, target)
    except ClassifierError as exc:
        raise _fail(str(exc)) from None
    result = {
        "task": task.value,
        "version": model.version,
        "trained_on": source,
        "model": str(header),
        "size_bytes": header.stat().st_size + arrays.stat().st_size,
        **report.to_json(),
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"task {task.value}: trained on {source} ({report.n_train} items, {report.n_aux} auxiliary)")
    typer.echo(
        f"cross-validation ({report.folds}): official {report.cv_official:.2f} at threshold "
        f"{report.threshold:.2f} ({report.cv_official_at_half:.2f} at 0.50); hold threshold "
        f"{report.hold_threshold:.2f} (out-of-fold precision >= {config.hold_precision:.0%})"
    )
    typer.echo(
        f"wrote {header} and {arrays.name} ({result['size_bytes'] / 1e6:.2f} MB) in {report.seconds:.0f}s"
    )


def _train_command_line(task: Task, path: Path, dataset: str | None) -> str:
    parts = [
        "parley model train",
        f"--task {task.value}",
        f"--data {path.name if path.is_file() else '$PARLEY_DATA_DIR'}",
    ]
    if dataset:
        parts.append(f"--dataset {dataset}")
    return " ".join(parts)


def _report_lines(report: EvalReport) -> list[str]:
    lines = [
        f"official (F1 of macro P/R): {report.official:.2f}   macro-F1: {report.macro_f1:.2f}   "
        f"accuracy: {report.accuracy:.2f}   threshold: {report.threshold:.2f}   n={report.n}",
        "class      precision  recall     f1  support",
    ]
    for label, s in report.per_class.items():
        lines.append(f"{label:<9} {s.precision:>9.2f} {s.recall:>7.2f} {s.f1:>6.2f} {s.support:>8}")
    c = report.confusion
    lines += ["confusion (rows gold, columns predicted)", "        pred 0  pred 1"]
    lines += [f"gold {g}  {c[g][0]:>6}  {c[g][1]:>6}" for g in (0, 1)]
    return lines


@app.command("eval")
def eval_command(
    task: TaskOpt,
    data: DataOpt = None,
    model_dir: ModelDirOpt = None,
    dataset: DatasetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    with_hatecheck: Annotated[
        bool, typer.Option("--hatecheck/--no-hatecheck", help="Add the HateCheck-de breakdown (offense).")
    ] = True,
    record: Annotated[
        bool,
        typer.Option("--record", help="Store the official test figure next to the model (<task>.eval.json)."),
    ] = False,
    sanity: Annotated[
        Path | None,
        typer.Option(
            "--sanity",
            help="Directory with neutral_de.jsonl / offensive_de.jsonl: share held at the hold threshold.",
        ),
    ] = None,
) -> None:
    """Evaluate TASK's model on the official test split (or on an export file)."""
    from parley.classifiers.data import Dataset, load_export, load_hatecheck
    from parley.classifiers.evaluate import evaluate_model, hatecheck
    from parley.classifiers.loader import find_model, load_classifier
    from parley.classifiers.recipes import ANCHORS, load_split

    path = _data_path(data)
    try:
        directory = find_model(task, model_dir)
        t0 = time.perf_counter()
        model = load_classifier(task, model_dir, cache=False)
        load_seconds = time.perf_counter() - t0
        if path.is_file():
            test: Dataset = load_export(path)
            name = "export"
        else:
            name = _dataset_name(task, dataset)
            test = load_split(task, name, path, "test")
        report = evaluate_model(model, test)
        result: dict[str, Any] = {
            "task": task.value,
            "model_version": model.version,
            "model_dir": str(directory),
            "dataset": test.name,
            "load_seconds": round(load_seconds, 3),
            **report.to_json(),
            "cross_validation": _cv_figures(model),
        }
        if sanity is not None:
            result["sanity"] = _sanity(model, sanity)
        anchor_key = name if name != "germeval2021" else f"germeval2021-{task.value}"
        if anchor_key in ANCHORS:
            result["anchors"] = ANCHORS[anchor_key]
        hc_path = path / "hatecheck" / "hatecheck_cases_final_german.csv"
        if with_hatecheck and task is Task.OFFENSE and not path.is_file() and hc_path.is_file():
            hc = load_hatecheck(path, "de")
            result["hatecheck_de"] = hatecheck(model, hc).to_json()
            result["hatecheck_de_without_folding"] = {"evasion": hatecheck(model, hc, fold=False).evasion}
        if record:
            _record(model, directory, result)
    except ClassifierError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(
        f"task {task.value} · model {model.version} ({directory}) · {test.name} · "
        f"loaded in {load_seconds:.2f}s"
    )
    for line in _report_lines(report):
        typer.echo(line)
    if "anchors" in result:
        anchors = "  ".join(f"{k} {v}" for k, v in result["anchors"].items())
        typer.echo(f"anchors: {anchors}")
    cv = result["cross_validation"]
    if cv:
        typer.echo(f"training data, held out (at training): official {cv.get('official')} ({cv.get('how')})")
    if "sanity" in result:
        for name, v in result["sanity"].items():
            typer.echo(
                f"sanity set {name}: {v['held']} of {v['n']} at or above the hold threshold "
                f"{v['hold_threshold']:.2f} ({v['held_percent']:.1f} %), median score {v['median']:.2f}"
            )
    if "hatecheck_de" in result:
        hc_json = result["hatecheck_de"]
        typer.echo(f"HateCheck-de accuracy {hc_json['accuracy']:.2f}")
        for group, v in hc_json["per_group"].items():
            typer.echo(f"  {group:<40} {v['accuracy']:>6.2f}  (n={v['n']})")
        typer.echo("  spelling evasion vs the plain cases they derive from (accuracy):")
        for func, v in hc_json["evasion"].items():
            typer.echo(
                f"  {func:<20} variant {v['variant']:>6.2f}  plain {v['plain']:>6.2f}  "
                f"gap {v['gap']:>6.2f}  n={v['n']}"
            )
        raw = result["hatecheck_de_without_folding"]["evasion"]["all"]
        typer.echo(f"  without the engine's folding: variant {raw['variant']:.2f}  plain {raw['plain']:.2f}")


def _cv_figures(model: LinearEnsemble) -> dict[str, Any]:
    """The held-out figure stored at training (round 2: cross-validation; round 1: a validation split)."""
    metrics = dict(model.info.metrics)
    if "cross_validation" in metrics:
        cv = metrics["cross_validation"]
        return {"official": cv.get("cv_official_f1_macro_pr"), "how": cv.get("folds", "")}
    if "validation" in metrics:
        val = metrics["validation"]
        return {"official": val.get("val_official_f1_macro_pr"), "how": "validation split"}
    return {}


def _sanity(model: LinearEnsemble, directory: Path) -> dict[str, Any]:
    """The sanity sets at a new site's hold threshold (what the moderation phase uses)."""
    from parley.classifiers.evaluate import load_sanity_set, sanity_report
    from parley.classifiers.settings import ClassifierPolicy

    threshold = ClassifierPolicy().hold_threshold
    out: dict[str, Any] = {}
    for name in ("neutral_de", "offensive_de"):
        path = directory / f"{name}.jsonl"
        if path.is_file():
            out[name] = sanity_report(model, load_sanity_set(path), threshold)
    return out


def _record(model: LinearEnsemble, directory: Path, result: dict[str, Any]) -> None:
    figure = {
        "task": model.task.value,
        "model_version": model.version,
        "dataset": result["dataset"],
        "official_f1_macro_pr": result["official_f1_macro_pr"],
        "macro_f1": result["macro_f1"],
        "accuracy": result["accuracy"],
        "threshold": result["threshold"],
        "command": f"parley model eval --task {model.task.value} --data $PARLEY_DATA_DIR --record",
    }
    if "hatecheck_de" in result:
        figure["hatecheck_de_evasion"] = result["hatecheck_de"]["evasion"]["all"]
    if "sanity" in result:
        figure["sanity"] = result["sanity"]
    (directory / f"{model.task.value}.eval.json").write_text(
        json.dumps(figure, indent=2) + "\n", encoding="utf-8"
    )


def _predict_records(lines: Iterator[str]) -> Iterator[tuple[Any, str | None, str | None]]:
    """``(id, text, error)`` per input line; ``text`` is None when the line is bad."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield None, None, f"line {n}: not JSON ({exc.msg})"
            continue
        if not isinstance(rec, dict):
            yield None, None, f"line {n}: expected a JSON object"
            continue
        rid = rec.get("id")
        text = rec.get("text")
        if rid is None:
            yield None, None, f"line {n}: missing field 'id'"
        elif not isinstance(text, str):
            yield rid, None, f"line {n}: missing or non-string field 'text'"
        else:
            yield rid, text, None


@app.command("predict")
def predict_command(task: TaskOpt, model_dir: ModelDirOpt = None) -> None:
    """Score JSONL from stdin ({"id","text"}) to stdout ({"id","label","score"}), same order."""
    from parley.classifiers.loader import load_classifier

    try:
        model = load_classifier(task, model_dir)
    except ClassifierError as exc:
        raise _fail(str(exc)) from None
    out = sys.stdout
    pending: list[tuple[Any, str | None, str | None]] = []

    def flush() -> None:
        texts = [t for _, t, _ in pending if t is not None]
        scores = iter(model.score(texts)) if texts else iter(())
        for rid, text, error in pending:
            if text is None:
                out.write(json.dumps({"id": rid, "error": error}, ensure_ascii=False) + "\n")
            else:
                s = next(scores)
                out.write(
                    json.dumps({"id": rid, "label": int(s >= model.threshold), "score": round(s, 6)}) + "\n"
                )
        pending.clear()
        out.flush()

    for item in _predict_records(iter(sys.stdin)):
        pending.append(item)
        if len(pending) >= PREDICT_BATCH:
            flush()
    flush()
