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
        str | None,
        typer.Option(
            "--database",
            help="Also read the default site of this database (policy, comments, names).",
        ),
    ] = None,
) -> None:
    """Moderate JSON lines from stdin to stdout (one result line per input line)."""
    from parley.moderation.batch import ConfigError, database_moderator, load_policy, run

    try:
        policy = load_policy(config)
        if database is None:
            run(sys.stdin.buffer, sys.stdout, policy)
            return
        with database_moderator(database, policy if config is not None else None) as moderator:
            run(sys.stdin.buffer, sys.stdout, moderator.policy, moderator)
    except ConfigError as exc:
        typer.echo(f"parley moderate: invalid config: {exc}", err=True)
        raise typer.Exit(2) from None
