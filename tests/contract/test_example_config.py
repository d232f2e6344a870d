"""``parley.example.toml`` (which the README says documents every option) is what
``scripts/example_config.py`` writes from the Settings model: every setting, its doc and default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from parley.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_example_is_the_generated_one() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "example_config.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    committed = (ROOT / "parley.example.toml").read_text(encoding="utf-8")
    assert committed == generated, "run: .venv/bin/python scripts/example_config.py > parley.example.toml"
    for name in Settings.model_fields:
        assert f"# {name} = " in committed
