"""``parley import wordpress|disqus|isso|parley FILE`` and ``parley export``.

Exit status: 0 done (or dry run done), 1 the file is broken or of another format (one line on
stderr naming where; nothing was written), 2 bad usage (unknown site, bad option).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.importers.sources import FormatError, SourceItem

import_app = typer.Typer(no_args_is_help=True, help="Import comments from WordPress, Disqus, Isso or Parley.")

SiteOpt = Annotated[str, typer.Option("--site", help="Slug of the site to import into.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Do everything, then roll back; print the summary.")]
Moderate = Annotated[
    bool, typer.Option("--moderate", help="Run the moderation pipeline on imported comments.")
]
Batch = Annotated[int, typer.Option("--batch-size", min=10, max=10_000, help="Comments per transaction.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _run(
    source: str,
    site: str,
    parse: Callable[[], Iterable[SourceItem]],
    *,
    dry_run: bool,
    moderate: bool,
    batch_size: int,
    as_json: bool,
) -> None:
    from parley.cli.main import fail, one_line, settings_or_exit
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.errors import AppError
    from parley.importers.services import Importer, check_stream
    from parley.registry import Registry

    try:
        total = check_stream(parse())
    except FormatError as exc:
        raise fail(f"import refused: {exc}") from None
    settings = settings_or_exit()
    # the moderation pipeline (and its models) is loaded only when it will run
    registry: Any = Registry.build(settings) if moderate else None
    db = registry.db if registry is not None else Database(settings)
    try:
        importer = Importer(
            db,
            site,
            source,
            SystemClock().now(),
            dry_run=dry_run,
            moderate=moderate,
            batch_size=batch_size,
            registry=registry,
        )
        report = _with_progress(importer, parse(), total)
    except FormatError as exc:  # the file changed between the check and the import
        raise fail(f"import stopped: {exc} (re-run to resume)") from None
    except AppError as exc:
        raise fail(one_line(exc), 2) from None
    finally:
        if registry is not None:
            registry.close()
        else:
            db.dispose()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(summary_text(report.as_dict()))


def _with_progress(importer: Any, items: Iterable[SourceItem], total: int) -> Any:
    if not sys.stderr.isatty():
        return importer.run(items)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("importing", total=total)
        return importer.run(items, progress=lambda n: bar.advance(task, n))


def summary_text(d: dict[str, Any]) -> str:
    c = d["comments"]
    lines = [
        f"{'DRY RUN — nothing was written. ' if d['dry_run'] else ''}Import from {d['source']}:",
        f"  threads: {d['threads']['created']} created, {d['threads']['existing']} existing",
        f"  comments: {c['created']} created, {c['existing']} already imported",
    ]
    for status, n in c["by_status"].items():
        lines.append(f"    {status}: {n}")
    if c["orphans"]:
        lines.append(f"    replies without their parent (imported at top level): {c['orphans']}")
    for reason, n in d["skipped"].items():
        lines.append(f"  skipped ({reason}): {n}")
    a = d["authors"]
    lines.append(f"  authors: {a['created']} created, {a['reused']} reused")
    for r in a["renamed"]:
        lines.append(
            f"    renamed: {r['original']!r} → {r['imported_as']!r} (looks like {r['collides_with']!r})"
        )
    for verdict, n in d["moderation"].items():
        lines.append(f"  moderation {verdict}: {n}")
    return "\n".join(lines)


@import_app.command("wordpress")
def import_wordpress(
    file: Annotated[Path, typer.Argument(help="WXR file (WordPress → Tools → Export).")],
    site: SiteOpt,
    thread_key: Annotated[str, typer.Option("--thread-key", help="link | id | guid")] = "link",
    dry_run: DryRun = False,
    moderate: Moderate = False,
    batch_size: Batch = 500,
    as_json: AsJson = False,
) -> None:
    """Import a WordPress export (WXR 1.0–1.2)."""
    from parley.importers import wordpress

    if thread_key not in ("link", "id", "guid"):
        raise typer.BadParameter("use link, id or guid", param_hint="--thread-key")
    key: Any = thread_key
    _run(
        "wordpress",
        site,
        lambda: wordpress.parse(file, key),
        dry_run=dry_run,
        moderate=moderate,
        batch_size=batch_size,
        as_json=as_json,
    )


@import_app.command("disqus")
def import_disqus(
    file: Annotated[Path, typer.Argument(help="Disqus export XML.")],
    site: SiteOpt,
    thread_key: Annotated[str, typer.Option("--thread-key", help="link | id")] = "link",
    dry_run: DryRun = False,
    moderate: Moderate = False,
    batch_size: Batch = 500,
    as_json: AsJson = False,
) -> None:
    """Import a Disqus export."""
    from parley.importers import disqus

    if thread_key not in ("link", "id"):
        raise typer.BadParameter("use link or id", param_hint="--thread-key")
    key: Any = thread_key
    _run(
        "disqus",
        site,
        lambda: disqus.parse(file, key),
        dry_run=dry_run,
        moderate=moderate,
        batch_size=batch_size,
        as_json=as_json,
    )


@import_app.command("isso")
def import_isso(
    file: Annotated[Path, typer.Argument(help="Isso's SQLite database file.")],
    site: SiteOpt,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Site URL the Isso thread paths are under.")
    ] = "",
    dry_run: DryRun = False,
    moderate: Moderate = False,
    batch_size: Batch = 500,
    as_json: AsJson = False,
) -> None:
    """Import an Isso database."""
    from parley.importers import isso

    _run(
        "isso",
        site,
        lambda: isso.parse(file, base_url),
        dry_run=dry_run,
        moderate=moderate,
        batch_size=batch_size,
        as_json=as_json,
    )


@import_app.command("parley")
def import_parley(
    file: Annotated[Path, typer.Argument(help="A `parley export --format json` file.")],
    site: SiteOpt,
    dry_run: DryRun = False,
    moderate: Moderate = False,
    batch_size: Batch = 500,
    as_json: AsJson = False,
) -> None:
    """Import Parley's own JSON export (e.g. to move a site to another server)."""
    from parley.importers import parley_json

    _run(
        "parley",
        site,
        lambda: parley_json.parse(file),
        dry_run=dry_run,
        moderate=moderate,
        batch_size=batch_size,
        as_json=as_json,
    )


def export_command(
    site: SiteOpt,
    fmt: Annotated[str, typer.Option("--format", help="json (Parley) or wxr (WordPress)")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export a site's threads and comments, re-importable (contains names and e-mail addresses)."""
    from parley.cli.main import fail, one_line, settings_or_exit
    from parley.db.database import Database
    from parley.errors import AppError
    from parley.importers.export import write_json, write_wxr
    from parley.sites.services import get_site_by_slug

    if fmt not in ("json", "wxr"):
        raise typer.BadParameter("use json or wxr", param_hint="--format")
    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.read() as session:
            found = get_site_by_slug(session, site)
            out = output.open("w", encoding="utf-8") if output else sys.stdout
            try:
                if fmt == "json":
                    counts = write_json(session, found, out)
                else:
                    counts = write_wxr(session, found, out, settings.public_url)
            finally:
                if output:
                    out.close()
    except AppError as exc:
        raise fail(one_line(exc), 2) from None
    finally:
        db.dispose()
    typer.echo(f"exported {counts[0]} threads, {counts[1]} comments", err=True)
