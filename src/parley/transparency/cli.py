"""``parley report transparency`` and ``parley audit export``."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import orjson
import typer

report_app = typer.Typer(no_args_is_help=True, help="Reports (DSA transparency report).")
audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit log.")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{option}: not a date (YYYY-MM-DD): {value!r}", err=True)
        raise typer.Exit(2) from None


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def _site_ids(session: object, slugs: list[str]) -> list[int] | None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from parley.sites.models import Site

    assert isinstance(session, Session)
    if not slugs:
        return None
    found = dict(session.execute(select(Site.slug, Site.id).where(Site.slug.in_(slugs))).all())
    missing = sorted(set(slugs) - set(found))
    if missing:
        typer.echo(f"unknown site(s): {', '.join(missing)}", err=True)
        raise typer.Exit(1)
    return sorted(found.values())


@report_app.command("transparency")
def transparency(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")],
    format: Annotated[str, typer.Option("--format", help="json | csv | html")] = "json",
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """The DSA Art. 15/24 transparency figures for a period: notices, decisions, appeals, sanctions."""
    from parley.cli.main import settings_or_exit
    from parley.db.database import Database
    from parley.transparency.services import build_report, to_csv

    if format not in ("json", "csv", "html"):
        typer.echo("--format: json, csv or html", err=True)
        raise typer.Exit(2)
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        typer.echo("--to is before --from", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.read() as session:
            report = build_report(
                session, _start(first), _start(last + timedelta(days=1)), _site_ids(session, site or [])
            )
    finally:
        db.dispose()
    if format == "json":
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
    elif format == "csv":
        text = to_csv(report)
    else:
        from parley.workspace.rendering import Translator, environment

        text = (
            environment()
            .get_template("transparency_report.html")
            .render(
                report=report,
                _=Translator(settings.default_locale),
                t=Translator(settings.default_locale),
                locale=settings.default_locale,
                start=first.isoformat(),
                end=last.isoformat(),
            )
        )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@audit_app.command("export")
def audit_export(
    format: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export the audit log (no e-mail or IP addresses), streaming."""
    from parley.audit.export import csv_lines, iter_events, jsonl_lines
    from parley.cli.main import settings_or_exit
    from parley.db.database import Database

    if format not in ("jsonl", "csv"):
        typer.echo("--format: jsonl or csv", err=True)
        raise typer.Exit(2)
    begin = _start(_day(start, "--from")) if start else None
    finish = _start(_day(end, "--to") + timedelta(days=1)) if end else None
    settings = settings_or_exit()
    db = Database(settings)
    out = output.open("wb") if output is not None else sys.stdout.buffer
    try:
        with db.read() as session:
            records = iter_events(session, start=begin, end=finish, site_ids=_site_ids(session, site or []))
            chunks = (
                jsonl_lines(records) if format == "jsonl" else (line.encode() for line in csv_lines(records))
            )
            for chunk in chunks:
                out.write(chunk)
        out.flush()
    finally:
        if output is not None:
            out.close()
        db.dispose()
