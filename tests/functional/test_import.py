"""Importers and export against a real database (SQLite and PostgreSQL): WordPress, Disqus, Isso
(a database written by the real Isso), Parley's JSON; idempotence, dry runs, broken files, name
collisions, the round trip import → export → import."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from parley.accounts.models import Account
from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from parley.db.database import Database
from parley.importers import disqus, parley_json, wordpress
from parley.importers.export import write_json, write_wxr
from parley.importers.services import Importer, ImportReport, check_stream
from parley.importers.sources import FormatError, SourceItem
from parley.sites.services import get_site_by_slug
from support.factories import make_account, make_site

DATA = Path(__file__).parent / "data"
WXR = DATA / "wordpress.xml"


def run(
    app: FastAPI, clock: FrozenClock, source: str, items: Any, site: str = "test", **kw: Any
) -> ImportReport:
    reg = app.state.registry
    return Importer(reg.db, site, source, clock.now(), registry=reg, **kw).run(items)


def snapshot(db: Database, slug: str) -> list[dict[str, Any]]:
    """A site's threads and comment trees, without ids (so two sites can be compared)."""
    out = []
    with db.read() as s:
        site = get_site_by_slug(s, slug)
        for t in s.scalars(select(Thread).where(Thread.site_id == site.id).order_by(Thread.key)):
            rows = list(s.scalars(select(Comment).where(Comment.thread_id == t.id).order_by(Comment.path)))
            index = {c.id: i for i, c in enumerate(rows)}
            out.append(
                {
                    "key": t.key,
                    "title": t.title,
                    "url": t.url,
                    "status": t.status,
                    "count": t.comment_count,
                    "comments": [
                        (
                            index.get(c.parent_id) if c.parent_id else None,
                            c.depth,
                            c.author_name,
                            c.status,
                            c.body_text,
                            c.created_at.isoformat(),
                            c.up,
                            c.down,
                            c.reply_count,
                            c.descendant_count,
                        )
                        for c in rows
                    ],
                }
            )
    return out


def test_wordpress_import_maps_threads_statuses_trees_and_names(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    report = run(app, clock, "wordpress", wordpress.parse(WXR))
    assert report.threads_created == 3
    assert dict(report.comments) == {"published": 5, "held": 1, "rejected": 1, "deleted": 1}
    assert dict(report.skipped) == {"pingback": 1, "trackback": 1}
    # the same e-mail in another case is the same author; another Jürgen with the same name is not merged
    renamed = {(r.original, r.imported_as, r.collides_with) for r in report.renamed}
    assert ("Jürgen Größ", "Jürgen Größ (2)", "Jürgen Größ") in renamed
    assert ("Redaktion", "Redaktion (2)", "Redaktion") in renamed  # a reserved name is not handed out
    snap = {t["key"]: t for t in snapshot(db, "test")}
    tram = snap["https://stadtblatt.example/2024/05/strassenbahn/"]
    assert tram["title"] == "Neue Straßenbahn: Bürger diskutieren"
    assert tram["count"] == 3  # published only
    first, reply, reply2 = tram["comments"][0], tram["comments"][1], tram["comments"][2]
    assert first[2] == "Jürgen Größ"
    assert first[8:] == (1, 2)  # one reply, two descendants
    assert reply[:3] == (0, 1, "Ølga Ŝtraße")
    assert "日本語もOK" in reply[4]
    assert reply2[0] == 1
    assert reply2[1] == 2
    assert "alert" not in first[4]
    assert "Plan" in first[4]
    assert snap["https://stadtblatt.example/impressum/"]["status"] == "closed"
    with db.read() as s:
        html = s.scalar(select(Comment.body_html).where(Comment.author_name == "Jürgen Größ").limit(1))
        assert html is not None
        assert "<script" not in html
        assert "<strong>Sehr</strong>" in html
        accounts = {a.display_name: a for a in s.scalars(select(Account).where(Account.kind == "imported"))}
        assert accounts["Jürgen Größ"].email == "juergen@example.org"
        assert accounts["Jürgen Größ"].email_normalized is None  # an imported address is no login
        assert accounts["Jürgen Größ"].name_skeleton  # imported authors own their names
        ips = list(s.scalars(select(Comment.ip_hash).where(Comment.ip_hash.is_not(None))))
        assert ips == []  # IP addresses in the export are not imported


def test_a_second_run_adds_nothing(app: FastAPI, db: Database, clock: FrozenClock) -> None:
    run(app, clock, "wordpress", wordpress.parse(WXR))
    before = snapshot(db, "test")
    again = run(app, clock, "wordpress", wordpress.parse(WXR))
    assert again.comments_created == 0
    assert again.comments_existing == 8
    assert again.threads_created == 0
    assert again.authors_created == 0
    assert snapshot(db, "test") == before


def test_a_dry_run_reports_and_writes_nothing(app: FastAPI, db: Database, clock: FrozenClock) -> None:
    report = run(app, clock, "wordpress", wordpress.parse(WXR), dry_run=True)
    assert report.comments_created == 8
    assert report.dry_run
    assert snapshot(db, "test") == []
    with db.read() as s:
        assert list(s.scalars(select(Account.id).where(Account.kind == "imported"))) == []


def test_an_interrupted_import_resumes(app: FastAPI, db: Database, clock: FrozenClock) -> None:
    items = list(wordpress.parse(WXR))

    def failing() -> Any:
        for n, item in enumerate(items):
            if n == 8:
                raise FormatError("disk on fire")
            yield item

    with pytest.raises(FormatError):
        run(app, clock, "wordpress", failing(), batch_size=3)
    with db.read() as s:
        partial = len(list(s.scalars(select(Comment.id))))
    assert 0 < partial < 8
    report = run(app, clock, "wordpress", iter(items), batch_size=3)
    assert report.comments_existing == partial
    assert report.comments_created == 8 - partial
    with db.read() as s:
        assert len(list(s.scalars(select(Comment.id)))) == 8


def test_a_name_owned_by_a_registered_account_is_not_merged(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    owner = make_account(db, clock, name="Ølga Ŝtraße")
    report = run(app, clock, "wordpress", wordpress.parse(WXR))
    assert any(r.original == "Ølga Ŝtraße" and r.imported_as == "Ølga Ŝtraße (2)" for r in report.renamed)
    with db.read() as s:
        names = set(s.scalars(select(Comment.author_name).where(Comment.author_id == owner)))
    assert names == set()  # none of the imported comments went to the registered account


def test_disqus_import_puts_early_replies_under_their_parents(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    report = run(app, clock, "disqus", disqus.parse(DATA / "disqus.xml"))
    assert dict(report.comments) == {"published": 3, "rejected": 1, "deleted": 1}
    assert report.orphans == 0
    snap = {t["key"]: t for t in snapshot(db, "test")}
    comments = snap["https://stadtblatt.example/artikel-42"]["comments"]
    first = next(c for c in comments if "Erster Kommentar" in c[4])
    early = next(c for c in comments if "Antwort vor dem Elternteil" in c[4])
    assert early[0] == comments.index(first)
    assert early[1] == 1
    assert first[4] == "Erster Kommentar mit Betonung\n\nund zweitem Absatz"
    assert snap["https://stadtblatt.example/artikel-43"]["status"] == "closed"
    with db.read() as s:
        max_accounts = list(s.scalars(select(Account.id).where(Account.display_name == "Max Mustermann")))
    assert len(max_accounts) == 1  # one Disqus user, two posts


@pytest.mark.parametrize("fmt", ["json", "wxr"])
def test_round_trip_into_an_empty_site(
    app: FastAPI, db: Database, clock: FrozenClock, fmt: str, tmp_path: Path
) -> None:
    run(app, clock, "wordpress", wordpress.parse(WXR))
    run(app, clock, "disqus", disqus.parse(DATA / "disqus.xml"))
    with db.write() as s:  # votes survive the JSON format
        c = s.scalars(select(Comment).where(Comment.status == "published").order_by(Comment.id)).first()
        assert c is not None
        c.up, c.down = 4, 1
    make_site(db, clock, "copy", name="Kopie")
    path = tmp_path / f"export.{fmt}"
    with db.read() as s, path.open("w", encoding="utf-8") as fh:
        site = get_site_by_slug(s, "test")
        counts = write_json(s, site, fh) if fmt == "json" else write_wxr(s, site, fh, "http://testserver")
    assert counts == (5, 13)
    if fmt == "json":
        json.loads(path.read_text(encoding="utf-8"))  # one valid JSON document
        items: Any = parley_json.parse(path)
    else:
        items = wordpress.parse(path)
    report = run(app, clock, "parley" if fmt == "json" else "wordpress", items, site="copy")
    assert report.comments_created == 13
    assert report.authors_created == 0  # same authors, reused
    original, copy = snapshot(db, "test"), snapshot(db, "copy")
    if fmt == "wxr":  # WordPress has no votes
        original = [{**t, "comments": [c[:6] + c[8:] for c in t["comments"]]} for t in original]
        copy = [{**t, "comments": [c[:6] + c[8:] for c in t["comments"]]} for t in copy]
    assert copy == original


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_cli_refuses_a_broken_file_and_writes_nothing(
    app: FastAPI,
    db: Database,
    clock: FrozenClock,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.cli.main import app as cli

    text = WXR.read_text(encoding="utf-8")
    cut = text[: text.index("<wp:comment_id>22</wp:comment_id>")]  # an export that stopped mid-way
    broken = _write(tmp_path, "cut.xml", cut)
    monkeypatch.setenv("PARLEY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARLEY_SECRET_KEY", "x" * 32)
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "wordpress", str(broken), "--site", "test"])
    assert result.exit_code == 1
    assert "import refused" in result.output
    assert "cut.xml: line" in result.output
    assert snapshot(db, "test") == []
    result = runner.invoke(cli, ["import", "wordpress", str(WXR), "--site", "test", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["comments"]["by_status"] == {"deleted": 1, "held": 1, "published": 5, "rejected": 1}
    assert summary["skipped"] == {"pingback": 1, "trackback": 1}
    result = runner.invoke(cli, ["export", "--site", "test", "--format", "wxr"])
    assert result.exit_code == 0
    assert "<wp:comment_id>" in result.output
    result = runner.invoke(cli, ["import", "wordpress", str(WXR), "--site", "nope"])
    assert result.exit_code == 2


def test_moderate_runs_the_pipeline_on_imported_comments(
    app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    items: list[SourceItem] = list(wordpress.parse(WXR))
    long_body = "Sehr lang. " * 2000  # over the default length limit
    for item in items:
        if getattr(item, "ref", None) == "21":
            item.body = long_body  # type: ignore[union-attr]
    report = run(app, clock, "wordpress", iter(items), moderate=True)
    assert sum(report.moderated.values()) == 5  # the published ones
    assert report.comments["published"] == 4
    assert report.comments["held"] == 2
    with db.read() as s:
        from parley.moderation.models import ModerationDecision

        triggers = set(s.scalars(select(ModerationDecision.trigger)))
    assert triggers == {"import"}


def test_check_stream_counts_items() -> None:
    assert check_stream(wordpress.parse(WXR)) == 13
    with pytest.raises(FormatError):
        check_stream(wordpress.parse(DATA / "disqus.xml"))
    assert io  # keep the import used in type comments
