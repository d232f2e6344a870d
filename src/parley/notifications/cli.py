"""``parley notifications digest``: queue the moderators' digest mails (run daily from cron)."""

from __future__ import annotations

from typing import Annotated

import typer

notifications_app = typer.Typer(no_args_is_help=True, help="Notification mail.")


@notifications_app.command("digest")
def digest(
    daily: Annotated[
        bool,
        typer.Option("--daily", help="Instead: let the job worker send the digest once a day from now on."),
    ] = False,
) -> None:
    """Queue a digest mail for every moderator whose site has held comments or open reports."""
    from parley.cli.main import settings_or_exit
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.notifications.jobs import do_schedule_daily_digest
    from parley.notifications.services import do_queue_digests

    db = Database(settings_or_exit())
    try:
        with db.write() as session:
            if daily:
                queued = do_schedule_daily_digest(session, SystemClock().now())
                typer.echo("daily digest scheduled" if queued else "daily digest was scheduled already")
                return
            n = do_queue_digests(session, SystemClock().now())
    finally:
        db.dispose()
    typer.echo(f"queued {n} digest mails (sent by the job worker)")
