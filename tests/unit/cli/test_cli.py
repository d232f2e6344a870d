"""The ``parley`` command line: exit statuses, one-line refusals, masked secrets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from parley.cli.main import app


@pytest.fixture
def env(sqlite_template: Path, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "parley.db"
    shutil.copy(sqlite_template, path)
    return {
        "PARLEY_DATABASE_URL": f"sqlite:///{path}",
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_SECRET_KEY": "cli-secret-value-0123456789",
    }


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def test_users_add_prints_the_id_and_refuses_conflicts(env: dict[str, str]) -> None:
    first = run(env, "users", "add", "--name", "Carla Cli", "--email", "carla@example.org")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().isdigit()
    again = run(env, "users", "add", "--name", "Someone Else", "--email", "CARLA@example.org")
    assert again.exit_code == 1
    assert again.stderr.strip().startswith("email_taken:")
    assert len(again.stderr.strip().splitlines()) == 1
    alike = run(env, "users", "add", "--name", "Carla  Cli", "--email", "other@example.org")
    assert alike.exit_code == 1
    assert alike.stderr.startswith("name_taken:")
    assert '"Carla Cli"' in alike.stderr
    bad = run(env, "users", "add", "--name", "Rolf Role", "--email", "r@example.org", "--role", "king")
    assert bad.exit_code == 2
    assert "unknown role" in bad.stderr
    short = run(env, "users", "add", "--name", "Pia Pass", "--email", "p@example.org", "--password", "short")
    assert short.exit_code == 1
    assert "password" in short.stderr


def test_sites_and_tokens(env: dict[str, str]) -> None:
    site = run(
        env, "sites", "add", "--slug", "kurier", "--name", "Kurier", "--origin", "https://Kurier.example/"
    )
    assert site.exit_code == 0
    assert site.stdout.strip().isdigit()
    dup = run(env, "sites", "add", "--slug", "kurier", "--name", "Kurier")
    assert dup.exit_code == 1
    assert dup.stderr.startswith("conflict:")
    bad = run(env, "sites", "add", "--slug", "Bad Slug", "--name", "X")
    assert bad.exit_code == 1
    assert "slug" in bad.stderr
    admin = run(env, "users", "add", "--name", "Anna Admin", "--email", "a@example.org", "--role", "admin")
    token = run(env, "tokens", "add", "--user", admin.stdout.strip(), "--name", "ci", "--site", "kurier")
    assert token.exit_code == 0
    assert token.stdout.startswith("pat_")
    assert run(env, "tokens", "add", "--user", "424242", "--name", "x").exit_code == 1
    unknown_site = run(env, "tokens", "add", "--user", admin.stdout.strip(), "--name", "x", "--site", "nope")
    assert unknown_site.exit_code == 1
    assert unknown_site.stderr.startswith("site_not_found:")


def test_config_check_masks_secrets_and_refuses_bad_settings(env: dict[str, str], tmp_path: Path) -> None:
    ok = run(env, "config", "check")
    assert ok.exit_code == 0, ok.output
    assert "cli-secret-value" not in ok.stdout
    assert "secret_key = '********'" in ok.stdout
    assert "configuration ok" in ok.stdout
    bad = run({**env, "PARLEY_PORT": "99999"}, "config", "check")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("invalid configuration: port")
    wrong_db = run({**env, "PARLEY_DATABASE_URL": "mysql://x"}, "config", "check")
    assert wrong_db.exit_code == 2
    missing = run(env, "--config", str(tmp_path / "nope.toml"), "config", "check")
    assert missing.exit_code == 2
    assert "not found" in missing.stderr
    toml = tmp_path / "parley.toml"
    toml.write_text('log_level = "DEBUG"\n', encoding="utf-8")
    from_file = run(env, "--config", str(toml), "config", "check")
    assert from_file.exit_code == 0
    assert "log_level = 'DEBUG'" in from_file.stdout


def test_db_commands(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "db", "check").stdout.strip() == "models and migrations agree"
    fresh = {**env, "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    serve = run(fresh, "serve")
    assert serve.exit_code == 2
    assert "parley db upgrade" in serve.stderr
    up = run(fresh, "db", "upgrade")
    assert up.exit_code == 0
    assert up.stdout.startswith("database at ")
    heads = run(fresh, "db", "heads")
    assert up.stdout.strip().endswith(heads.stdout.strip())
