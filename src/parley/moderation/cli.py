"""``parley moderate``: the Typer command (kept light: the engine is imported when it runs).

See :mod:`parley.moderation.batch` for the input/output contract. Registered in
:mod:`parley.cli.main` as ``app.command("moderate")(moderate)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def moderate(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML moderation policy: tables terms, links, copies, rate, trust, names, reports.",
        ),
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Use a site's stored comments (not available yet).")
    ] = None,
) -> None:
    """Moderate JSON lines from stdin to stdout (one result line per input line)."""
    if database is not None:
        typer.echo("parley moderate: --database is not supported yet; runs use an in-memory site", err=True)
        raise typer.Exit(2)
    from parley.moderation.batch import ConfigError, load_policy, run

    try:
        policy = load_policy(config)
    except ConfigError as exc:
        typer.echo(f"parley moderate: invalid config: {exc}", err=True)
        raise typer.Exit(2) from None
    run(sys.stdin.buffer, sys.stdout, policy)
