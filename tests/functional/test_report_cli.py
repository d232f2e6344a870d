"""``parley report transparency`` and ``parley audit export`` on a database with a few decisions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parley.cli.main import app as cli
from parley.clock import FrozenClock
from parley.config import Settings
from support.factories import bearer, configure_site, register
from support.workspace import moderator


def test_transparency_report_and_audit_export_from_the_command_line(
    app: FastAPI, client: TestClient, clock: FrozenClock, settings: Settings, tmp_path: Path
) -> None:
    configure_site(app, "test", moderation={"terms": {"suspect": ["trottel"]}})
    author = register(client)
    held = client.post(
        "/api/v1/threads/s/comments", json={"body": "So ein Trottel"}, headers=bearer(author["token"])
    ).json()
    fine = client.post(
        "/api/v1/threads/s/comments", json={"body": "Danke"}, headers=bearer(author["token"])
    ).json()
    reporter = register(client)
    client.post(
        f"/api/v1/comments/{fine['comment']['id']}/reports",
        json={"reason": "spam", "detail": "", "good_faith": True},
        headers=bearer(reporter["token"]),
    )
    token = held["statement_url"].rsplit("/", 1)[1]
    client.post(f"/api/v1/statements/{token}/appeal", json={"text": "Bitte"}, headers=bearer(author["token"]))
    mod = moderator(app, clock)
    assert (
        mod.post(f"/moderate/comments/{fine['comment']['id']}/reject", {"reason_code": "spam"}).status_code
        == 200
    )
    env = {"PARLEY_DATABASE_URL": settings.database_url, "PARLEY_DATA_DIR": str(tmp_path)}
    day = clock.now().date().isoformat()
    runner = CliRunner()

    result = runner.invoke(cli, ["report", "transparency", "--from", day, "--to", day], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["notices"]["total"] == 1
    assert report["notices"]["by_reason"] == {"spam": 1}
    assert report["notices"]["by_outcome"] == {"removed": 1}
    assert report["decisions"]["by_type"] == {"held": 1, "rejected": 1}
    assert report["decisions"]["automated"] == 1
    assert report["decisions"]["human"] == 1
    assert report["decisions"]["by_reason"]["spam"] == 1
    assert report["appeals"]["received"] == 1
    assert report["appeals"]["open"] == 1
    as_csv = runner.invoke(
        cli, ["report", "transparency", "--from", day, "--to", day, "--format", "csv"], env=env
    )
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["section", "field", "value"]
    assert ["appeals", "received", "1"] in rows
    html = runner.invoke(
        cli, ["report", "transparency", "--from", day, "--to", day, "--format", "html"], env=env
    )
    assert html.exit_code == 0
    assert "<h1>" in html.stdout
    empty = runner.invoke(
        cli, ["report", "transparency", "--from", "2001-01-01", "--to", "2001-01-31"], env=env
    )
    assert json.loads(empty.stdout)["decisions"]["restrictions"] == 0
    bad = runner.invoke(cli, ["report", "transparency", "--from", "yesterday", "--to", day], env=env)
    assert bad.exit_code == 2

    out = tmp_path / "audit.jsonl"
    result = runner.invoke(cli, ["audit", "export", "--format", "jsonl", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"comment.moderated", "appeal.created", "comment.reject"} <= {e["action"] for e in events}
    assert "@" not in out.read_text()
    as_csv = runner.invoke(cli, ["audit", "export", "--format", "csv", "--from", day, "--to", day], env=env)
    header, *lines = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert header[:3] == ["id", "created_at", "site_id"]
    assert len(lines) == len(events)
