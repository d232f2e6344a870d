"""Alembic, driven from Python: ``parley db upgrade|check|revision|heads`` and the tests use this."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool

from parley.config import Settings


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    script_dir = Path(str(resources.files("parley.db") / "migrations"))
    cfg.set_main_option("script_location", str(script_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(script_dir / "versions"))
    # date-named revision files, so the history reads in order
    cfg.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"
    )
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    cfg.attributes["sqlalchemy_url"] = settings.sqlalchemy_url
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    if settings.is_sqlite:
        _ensure_sqlite_dir(settings)
    command.upgrade(alembic_config(settings), revision)


def check(settings: Settings) -> None:
    """Raise if the models have changes no migration covers (``alembic check``)."""
    command.check(alembic_config(settings))


def revision(settings: Settings, message: str, autogenerate: bool = True) -> list[Path]:
    """Write a new revision file; tidy it so it passes ruff like hand-written code."""
    scripts = command.revision(alembic_config(settings), message=message, autogenerate=autogenerate)
    items = scripts if isinstance(scripts, list) else [scripts]
    paths = [Path(s.path) for s in items if s is not None]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        # autogenerate renders JSONB's default argument with a bare name it does not import
        path.write_text(text.replace("astext_type=Text()", "astext_type=sa.Text()"), encoding="utf-8")
        _ruff(path)
    return paths


def _ruff(path: Path) -> None:
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)  # noqa: S603
        subprocess.run([ruff, "format", "--quiet", str(path)], check=False)  # noqa: S603


def heads(settings: Settings) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


def current(settings: Settings) -> str | None:
    """The revision the database is at, or None for an empty (or, SQLite, missing) database."""
    if settings.is_sqlite:
        from sqlalchemy.engine import make_url

        path = make_url(settings.sqlalchemy_url).database
        if path and path != ":memory:" and not Path(path).exists():
            return None  # connecting would create the file, or fail when its directory is missing
    engine = create_engine(settings.sqlalchemy_url, poolclass=pool.NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return str(row[0]) if row else None
    finally:
        engine.dispose()


def is_up_to_date(settings: Settings) -> bool:
    return current(settings) in heads(settings)


def _ensure_sqlite_dir(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    db = make_url(settings.sqlalchemy_url).database
    if db and db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)
