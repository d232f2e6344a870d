"""``parley users export|erase ID`` (GDPR requests handled by an admin) and ``parley privacy purge``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

privacy_app = typer.Typer(no_args_is_help=True, help="Privacy: retention purges.")


def users_export(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
) -> None:
    """Print everything Parley holds about an account as JSON (GDPR Art. 15)."""
    from parley.cli.main import fail, settings_or_exit
    from parley.db.database import Database
    from parley.privacy.export import collect

    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.read() as session:
            data = collect(session, account_id, settings.public_url)
    finally:
        db.dispose()
    if data is None:
        raise fail(f"no account with id {account_id}")
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def users_erase(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase an account (GDPR Art. 17): comments anonymised or removed as each site configures."""
    from parley.cli.main import fail, settings_or_exit
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.errors import NotFound
    from parley.privacy.erasure import do_erase_account

    if not yes:
        typer.confirm(f"Erase account {account_id} for good?", abort=True)
    db = Database(settings_or_exit())
    try:
        with db.write() as session:
            result = do_erase_account(session, account_id, SystemClock().now(), actor_kind="admin")
    except NotFound:
        raise fail(f"no account with id {account_id}") from None
    finally:
        db.dispose()
    typer.echo(json.dumps(asdict(result)))


@privacy_app.command("purge")
def purge(
    daily: Annotated[
        bool, typer.Option("--daily", help="Instead: let the job worker purge once a day from now on.")
    ] = False,
) -> None:
    """Erase IP hashes and rate-limit data older than the retention settings (run daily)."""
    from parley.cli.main import settings_or_exit
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.privacy.jobs import do_schedule_daily_purge
    from parley.privacy.retention import do_purge

    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.write() as session:
            if daily:
                queued = do_schedule_daily_purge(session, SystemClock().now())
                typer.echo("daily purge scheduled" if queued else "daily purge was scheduled already")
                return
            result = do_purge(session, settings, SystemClock().now())
    finally:
        db.dispose()
    typer.echo(json.dumps(asdict(result)))
