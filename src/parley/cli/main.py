"""``parley``: serve, migrate, manage users and sites, load the demo, moderate, train models.

Exit status: 0 success, 1 a refused operation (a conflict: the one-line reason is on stderr),
2 bad usage or invalid configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from parley.classifiers.cli import app as model_app
from parley.config import Settings, load_settings
from parley.errors import AppError
from parley.importers.cli import export_command, import_app
from parley.moderation.cli import moderate
from parley.notifications.cli import notifications_app
from parley.privacy.cli import privacy_app, users_erase, users_export
from parley.transparency.cli import audit_app, report_app
from parley.webhooks.cli import webhooks_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Parley comment server.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic).")
users_app = typer.Typer(no_args_is_help=True, help="Accounts.")
sites_app = typer.Typer(no_args_is_help=True, help="Sites (publisher properties).")
tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for the admin API.")
config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sites_app, name="sites")
app.add_typer(tokens_app, name="tokens")
app.add_typer(config_app, name="config")
app.command("moderate")(moderate)  # the moderation engine's batch command
app.add_typer(import_app, name="import")
app.command("export")(export_command)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(privacy_app, name="privacy")
app.add_typer(notifications_app, name="notifications")
app.add_typer(model_app, name="model")  # the classifiers: train, eval, predict
users_app.command("export")(users_export)
users_app.command("erase")(users_erase)
app.add_typer(report_app, name="report")  # parley report transparency (workspace issue)
app.add_typer(audit_app, name="audit")  # parley audit export


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise fail(f"invalid configuration: {where}: {first.get('msg')}", 2) from None
    except (OSError, ValueError) as exc:
        raise fail(f"invalid configuration: {exc}", 2) from None


@app.callback()
def main_callback(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (PARLEY_CONFIG).")
    ] = None,
) -> None:
    if config is not None:
        if not config.is_file():
            raise fail(f"config file not found: {config}", 2)
        os.environ["PARLEY_CONFIG"] = str(config)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run the HTTP server (uvicorn)."""
    import uvicorn

    from parley.db import migrate

    settings = settings_or_exit()
    if not migrate.is_up_to_date(settings):
        raise fail("the database schema is not up to date: run `parley db upgrade` first", 2)
    if host is not None:
        os.environ["PARLEY_HOST"] = host
    if port is not None:
        os.environ["PARLEY_PORT"] = str(port)
    settings = settings_or_exit()
    n = workers or settings.workers
    os.environ["PARLEY_WORKERS"] = str(n)  # each worker's settings know they are one of n
    if settings.is_sqlite:
        settings.secret  # noqa: B018 - create the secret once, before workers race for it
    from parley.web.accesslog import uvicorn_log_config

    uvicorn.run(
        "parley.app:factory",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=n if n > 1 else None,
        access_log=settings.access_log,
        log_config=uvicorn_log_config(),  # the access log without client addresses or query strings
        proxy_headers=False,  # client addresses come from trusted_proxies only (parley.security)
        server_header=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from parley.db import migrate

    settings = settings_or_exit()
    migrate.upgrade(settings, revision)
    typer.echo(f"database at {migrate.current(settings)}")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models have changes that no migration covers."""
    from alembic.util.exc import CommandError

    from parley.db import migrate

    settings = settings_or_exit()
    try:
        migrate.check(settings)
    except CommandError as exc:
        raise fail(str(exc).splitlines()[0]) from None
    typer.echo("models and migrations agree")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Write a new migration from the difference between models and database (developers)."""
    from parley.db import migrate

    for path in migrate.revision(settings_or_exit(), message):
        typer.echo(str(path))


@db_app.command("heads")
def db_heads() -> None:
    from parley.db import migrate

    for head in migrate.heads(settings_or_exit()):
        typer.echo(head)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (login).")],
    password: Annotated[
        str | None, typer.Option("--password", help="Password (else no password login).")
    ] = None,
    role: Annotated[str, typer.Option("--role", help="commenter | moderator | admin")] = "commenter",
    verified: Annotated[bool, typer.Option("--verified", help="Show the verified badge.")] = False,
) -> None:
    """Create an account and print its id. Exit 1 with the reason when the name or e-mail is taken."""
    from parley.accounts.models import Role
    from parley.accounts.services import do_create_account
    from parley.clock import SystemClock
    from parley.db.database import Database

    try:
        role_value = Role(role)
    except ValueError:
        raise fail(f"unknown role {role!r}: use commenter, moderator or admin", 2) from None
    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.write() as session:
            account = do_create_account(
                session,
                name=name,
                email=email,
                password=password,
                role=role_value,
                verified=verified,
                now=SystemClock().now(),
            )
            account_id = account.id
    except AppError as exc:
        raise fail(one_line(exc)) from None
    finally:
        db.dispose()
    typer.echo(str(account_id))


def one_line(exc: AppError) -> str:
    """A refusal in one line, naming what collided (``name_taken: … looks like "X"``)."""
    from parley import i18n

    text = i18n.gettext("en", exc.message, exc.params)
    collides = exc.extra.get("collides_with")
    if collides:
        text += f' It looks like the existing name "{collides}".'
    errors = exc.extra.get("errors")
    if errors:
        text += " " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return f"{exc.code}: {text}"


@sites_app.command("add")
def sites_add(
    slug: Annotated[str, typer.Option("--slug")],
    name: Annotated[str, typer.Option("--name")],
    origin: Annotated[list[str] | None, typer.Option("--origin", help="Allowed origin (repeatable).")] = None,
    sso_secret: Annotated[str | None, typer.Option("--sso-secret", help="HS256 secret for SSO.")] = None,
    sso_public_key: Annotated[Path | None, typer.Option("--sso-public-key", help="RS256 PEM file.")] = None,
) -> None:
    """Create a site and print its id."""
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.sites.services import do_create_site

    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.write() as session:
            site = do_create_site(
                session,
                slug=slug,
                name=name,
                now=SystemClock().now(),
                allowed_origins=origin or [],
                sso_secret=sso_secret,
                sso_public_key=sso_public_key.read_text() if sso_public_key else None,
            )
            site_id = site.id
    except AppError as exc:
        raise fail(one_line(exc)) from None
    finally:
        db.dispose()
    typer.echo(str(site_id))


@tokens_app.command("add")
def tokens_add(
    user: Annotated[int, typer.Option("--user", help="Account id (an admin).")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    site: Annotated[str | None, typer.Option("--site", help="Limit the token to one site (slug).")] = None,
) -> None:
    """Create an API token for the admin API and print it (shown once)."""
    from parley.accounts.models import Account
    from parley.accounts.services import do_create_api_token
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.sites.services import get_site_by_slug

    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.write() as session:
            account = session.get(Account, user)
            if account is None:
                raise fail(f"no account with id {user}")
            site_id = get_site_by_slug(session, site).id if site else None
            token = do_create_api_token(session, account, name, SystemClock().now(), site_id)
    except AppError as exc:
        raise fail(one_line(exc)) from None
    finally:
        db.dispose()
    typer.echo(token)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the due jobs once and exit.")] = False,
) -> None:
    """Run background jobs (mail, webhooks) in this process, until interrupted."""
    from parley.jobs.services import run_due
    from parley.jobs.worker import Worker
    from parley.registry import Registry

    registry = Registry.build(settings_or_exit())
    try:
        if once:
            typer.echo(f"ran {run_due(registry, limit=1000)} jobs")
            return
        from parley.jobs.recurring import do_ensure_recurring

        do_ensure_recurring(registry)
        Worker(registry, registry.settings.jobs_poll_seconds).loop()
    finally:
        registry.close()


@app.command()
def demo() -> None:
    """Load the demo site, article and its comments (idempotent)."""
    from parley.clock import SystemClock
    from parley.db.database import Database
    from parley.demo.services import do_load_demo

    settings = settings_or_exit()
    db = Database(settings)
    try:
        with db.write() as session:
            result = do_load_demo(session, SystemClock().now(), settings.public_url)
    finally:
        db.dispose()
    state = "loaded" if result.created else "already there"
    typer.echo(f"demo {state}: thread {result.thread_key!r} with {result.comments} comments")


@config_app.command("check")
def config_check() -> None:
    """Validate the settings and show them (secrets masked)."""
    settings = settings_or_exit()
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("secret") and value is not None:
            value = "********"
        typer.echo(f"{name} = {value!r}")
    typer.echo("configuration ok")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
