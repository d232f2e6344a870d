"""Import a database written by the real Isso (installed from PyPI into a private virtualenv)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from parley.db.database import Database
from parley.importers import isso
from parley.importers.services import Importer

ISSO_VERSION = "0.14.0"
MAKE_DB = Path(__file__).resolve().parents[1] / "support" / "isso_make_db.py"


@pytest.fixture(scope="session")
def isso_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Isso database made by Isso itself; skipped (with the reason) when Isso cannot be installed."""
    venv = Path.home() / ".cache" / "parley-test-isso" / "venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", f"import isso, sys; sys.exit(isso.__version__ != {ISSO_VERSION!r})"]
    if not python.exists() or subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"isso=={ISSO_VERSION}"],
                check=True,
                capture_output=True,
                timeout=600,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            pytest.skip(f"the real Isso {ISSO_VERSION} could not be installed from PyPI: {exc}")
    path = tmp_path_factory.mktemp("isso") / "isso.db"
    subprocess.run([str(python), str(MAKE_DB), str(path)], check=True, capture_output=True, timeout=120)
    return path


def test_isso_database_imports_with_parents_votes_and_modes(
    app: FastAPI, db: Database, clock: FrozenClock, isso_db: Path
) -> None:
    reg = app.state.registry
    report = Importer(reg.db, "test", "isso", clock.now(), registry=reg).run(
        isso.parse(isso_db, "https://blog.example")
    )
    conn = sqlite3.connect(isso_db)
    try:
        rows = {r[0]: r[1:] for r in conn.execute("SELECT id, mode, likes, dislikes, parent FROM comments")}
    finally:
        conn.close()
    assert report.comments_created == len(rows) == 7
    assert dict(report.comments) == {"published": 5, "held": 1, "deleted": 1}
    with db.read() as s:
        threads = {t.key: t for t in s.scalars(select(Thread))}
        assert set(threads) == {"/blog/eins/", "/blog/zwei/"}
        assert threads["/blog/eins/"].url == "https://blog.example/blog/eins/"
        assert threads["/blog/eins/"].title == "Blog eins"
        comments = {c.body_text: c for c in s.scalars(select(Comment))}
    first = comments["Erster Kommentar mit Link"]
    assert "<strong>Kommentar</strong>" in first.body_html
    assert (first.up, first.down) == rows[1][1:3]
    reply = comments["Antwort darauf – ünïcödé"]
    assert reply.parent_id == first.id
    assert reply.author_name == "Ølga"
    assert comments["Ohne Namen"].author_name == "Anonymous"
    assert comments["<script>alert(1)</script>Skript als Text"].body_html.startswith("<p>&lt;script&gt;")
    tombstone = comments[""]
    assert tombstone.status == "deleted"
    assert comments["Antwort auf Gelöschtes"].parent_id == tombstone.id
    assert comments["Wartet auf Freigabe"].status == "held"
    again = Importer(reg.db, "test", "isso", clock.now(), registry=reg).run(isso.parse(isso_db))
    assert again.comments_created == 0
    assert again.comments_existing == 7


def test_not_an_isso_database(tmp_path: Path) -> None:
    from parley.importers.sources import FormatError

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x (a)")
    conn.close()
    with pytest.raises(FormatError, match="not an Isso database"):
        list(isso.parse(other))
    text = tmp_path / "text.db"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(FormatError, match="not an SQLite database"):
        list(isso.parse(text))
