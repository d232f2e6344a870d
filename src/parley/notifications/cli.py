"""``parley notifications digest``: queue the moderators' digest mails (run daily from cron)."""

from __future__ import annotations

import typer

notifications_app = typer.Typer(no_args_is_help=True, help="Notification mail.")


@notifications_app.command("digest")
def digest() -> None:
    """Queue a digest mail for every moderator whose site has held comments or open reports."""
    from parley.cli.main import settings_or_exit
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.notifications.services import do_queue_digests

    db = Database(settings_or_exit())
    try:
        with db.write() as session:
            n = do_queue_digests(session, SystemClock().now())
    finally:
        db.dispose()
    typer.echo(f"queued {n} digest mails (sent by the job worker)")
