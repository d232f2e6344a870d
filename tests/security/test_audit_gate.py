"""The dependency audit gate (``scripts/audit_gate.py``, ``make audit``) on pip-audit's own JSON
reports: a known vulnerability fails it, an unreachable service only warns."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_gate.py"


def gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_gate", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VULNERABLE = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
        },
        {"name": "fastapi", "version": "0.115.0", "vulns": []},
        {
            "name": "uvloop",
            "skip_reason": "Dependency not found on PyPI and could not be audited: uvloop (0.23.0)",
        },
    ]
}
UNREACHABLE = {
    "dependencies": [
        {"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
        for n in ("fastapi", "jinja2")
    ]
}
CLEAN = {"dependencies": [{"name": "fastapi", "version": "0.115.0", "vulns": []}]}


def test_a_known_vulnerability_fails_the_gate() -> None:
    status, lines = gate().judge(VULNERABLE)
    assert status == 1
    assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in lines
    assert any(line.startswith("WARNING") for line in lines)


def test_an_unreachable_service_warns_and_passes() -> None:
    status, lines = gate().judge(UNREACHABLE)
    assert status == 0
    assert lines[0].startswith("WARNING: pip-audit could not audit 2 of 2 packages")


def test_a_clean_report_passes() -> None:
    assert gate().judge(CLEAN) == (0, ["audit: 1 of 1 packages audited, no known vulnerabilities"])


def test_the_command_line_exit_status(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(VULNERABLE))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stdout
