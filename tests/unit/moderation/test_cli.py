"""The ``parley moderate`` contract: JSON lines in, one result line per input line, in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from parley.moderation.cli import moderate

from .helpers import seed_comments

PARLEY = Path(sys.executable).with_name("parley")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(moderate)
    return app


def run(lines: list[Any], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """Feed ``lines`` (objects are JSON-encoded, strings sent as they are) to ``parley moderate``."""
    payload = "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines)
    result = CliRunner().invoke(_app(), list(args), input=payload.encode("utf-8"))
    out = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, out, result.stderr


def line(id_: str, text: str, author: str = "a1", thread: str = "t1", **extra: Any) -> dict[str, Any]:
    return {"id": id_, "text": text, "author": author, "thread": thread, **extra}


def test_seed_thread_publishes_and_the_forgeries_are_caught() -> None:
    seeds = seed_comments()
    lines = [line(c["id"], c["text"], author=c["name"], name=c["name"]) for c in seeds]
    copied = seeds[3]["text"].replace("Richtig so", "Genau so").replace("selbst", "selber")
    lines += [
        line("forged-greek", "Trump will Frieden.", author="fake1", name="Sektglas Grϋnling"),
        line("forged-capital-i", "Die EU will Krieg.", author="fake2", name="SektgIas Grünling"),
        line("copy", copied, author="fake3", name="Leser"),
        line("own-again", seeds[0]["text"], author=seeds[0]["name"], name=seeds[0]["name"]),
    ]
    code, out, _ = run(lines)
    assert code == 0
    assert [o["id"] for o in out] == [x["id"] for x in lines]
    assert [o["verdict"] for o in out[:6]] == ["publish"] * 6
    assert all(o["reasons"] == [] for o in out[:6])
    for o in out[6:8]:
        assert o["verdict"] == "hold"
        assert [(r["phase"], r["code"]) for r in o["reasons"]] == [("names", "name_impersonation")]
        assert "Sektglas Grünling" in o["reasons"][0]["detail"]
    assert out[8]["verdict"] == "hold"
    assert out[8]["reasons"] == [
        {
            "phase": "copies",
            "code": "copy_spam",
            "detail": "Nearly the same as comment #seed-4 by another account.",
        }
    ]
    assert [r["code"] for r in out[9]["reasons"]] == ["repeat_post"]


def test_terms_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    terms = '[terms]\nbanned = ["Trottel", "idiot*"]\nsuspect = ["Lügenpresse"]\n'
    config.write_text(terms + "[classifier]\nenabled = false\n", encoding="utf-8")  # the term phase alone
    code, out, _ = run(
        [
            line("1", "Du bist ein T r o t t e l"),
            line("2", "Der Trottoir ist nass."),
            line("3", "Diese Lügen-Presse!"),
            line("4", "Lauter 1d1oten hier"),
        ],
        "--config",
        str(config),
    )
    assert code == 0
    assert [o["verdict"] for o in out] == ["reject", "publish", "hold", "reject"]
    assert out[0]["reasons"] == [
        {
            "phase": "terms",
            "code": "banned_term",
            "detail": 'Contains the banned term "Trottel" (written as "T r o t t e l").',
        }
    ]


def test_bad_lines_get_an_error_line_and_the_run_goes_on() -> None:
    lines: list[Any] = [
        "not json",
        "[1, 2]",
        {"id": 5, "text": "x", "author": "a", "thread": "t"},
        {"id": "no-text", "author": "a", "thread": "t"},
        {"id": "bad-text", "text": 3, "author": "a", "thread": "t"},
        line("bad-ts", "Hallo", ts="gestern"),
        line("bad-ts2", "Hallo", ts=True),
        line("bad-name", "Hallo", name=7),
        "",
        line("ok", "Hallo"),
    ]
    code, out, _ = run(lines)
    assert code == 0
    assert len(out) == len(lines)
    assert [o.get("id") for o in out] == [
        None, None, None, "no-text", "bad-text", "bad-ts", "bad-ts2", "bad-name", None, "ok"
    ]  # fmt: skip
    assert all("error" in o and "verdict" not in o for o in out[:-1])
    assert out[3]["error"] == "missing field 'text'"
    assert out[-1] == {"id": "ok", "verdict": "publish", "reasons": []}


def test_invalid_utf8_is_a_bad_line() -> None:
    result = CliRunner().invoke(
        _app(), [], input=b'{"id": "x\xff"}\n' + json.dumps(line("ok", "Hi")).encode() + b"\n"
    )
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert out[0] == {"id": None, "error": "the line is not valid JSON"}
    assert out[1]["verdict"] == "publish"


@pytest.mark.parametrize(
    "content",
    [
        "[terms\nbanned = [",  # not TOML
        "[terms]\nbanned = ['tro*ttel']\n",  # a bad term
        "[terms]\nforbidden = ['x']\n",  # an unknown key
        "[copies]\nthreshold = 2.0\n",  # out of range
    ],
)
def test_an_invalid_config_exits_2_with_one_line(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content, encoding="utf-8")
    code, out, err = run([line("1", "Hallo")], "--config", str(config))
    assert code == 2
    assert out == []
    assert err.count("\n") == 1
    assert err.startswith("parley moderate: invalid config: ")


def test_a_missing_config_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run([line("1", "x")], "--config", str(tmp_path / "missing.toml"))
    assert code == 2
    assert "cannot read" in err


def test_copies_across_lines_and_rate_only_with_timestamps() -> None:
    text = "Die Waffen werden schon in wenigen Wochen, wenn nicht Tagen schweigen, sagt man."
    lines = [line("a", text, author="x"), line("b", text + " Wirklich.", author="y")]
    lines += [line(f"t{i}", f"Kommentar Nummer {i}", author="z", ts=1_700_000_000 + i) for i in range(4)]
    lines += [line(f"n{i}", f"Noch ein Kommentar {i}", author="w") for i in range(6)]
    code, out, _ = run(lines)
    assert code == 0
    assert out[1]["verdict"] == "hold"
    assert out[1]["reasons"][0]["code"] == "copy_spam"
    assert [o["verdict"] for o in out[2:6]] == ["publish", "publish", "publish", "reject"]
    assert out[5]["reasons"][0]["code"] == "flood"
    assert [o["verdict"] for o in out[6:]] == ["publish"] * 6  # no ts: no rate limits


def test_a_held_line_is_not_a_published_comment() -> None:
    text = "Die Waffen werden schon in wenigen Wochen, wenn nicht Tagen schweigen, sagt man hier."
    lines = [
        line("orig", text, author="x", name="Redaktion"),  # held/rejected: reserved name
        line("later", text, author="y"),
    ]
    _, out, _ = run(lines)
    assert out[0]["verdict"] == "reject"
    assert out[1]["verdict"] == "publish"


@pytest.mark.skipif(not PARLEY.exists(), reason="console script not installed")
def test_database_mode_reads_the_demo_sites_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "PARLEY_DATABASE_URL": url, "PARLEY_DATA_DIR": str(tmp_path)}
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(PARLEY), *command], env=env, capture_output=True, timeout=120, check=True)
    lines = [
        line("1", "Die EU will Krieg.", author="x", name="Sektglas Grϋnling"),  # a demo commenter's name
        line("2", "Ein ganz normaler Kommentar.", author="y", name="Neue Leserin"),
    ]
    code, out, err = run(lines, "--database", url)
    assert code == 0, err
    assert out[0]["verdict"] == "hold"
    assert out[0]["reasons"][0]["code"] == "name_impersonation"
    assert out[1]["verdict"] == "publish"


def test_database_mode_refuses_a_database_without_the_site(tmp_path: Path) -> None:
    code, _, err = run([line("1", "x")], "--database", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2
    assert err.startswith("parley moderate: invalid config: ")


@pytest.mark.skipif(not PARLEY.exists(), reason="console script not installed")
def test_the_installed_command(tmp_path: Path) -> None:
    payload = "\n".join(json.dumps(line(str(i), f"Kommentar {i}")) for i in range(3)) + "\n"
    done = subprocess.run(
        [str(PARLEY), "moderate"], input=payload.encode(), capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["id"] for x in done.stdout.decode().splitlines()] == ["0", "1", "2"]
