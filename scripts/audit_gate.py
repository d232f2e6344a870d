"""`make audit`: pip-audit over the pinned dependencies, failing on a known vulnerability only.

pip-audit asks PyPI's vulnerability data about every pinned package of ``constraints.txt``. When
that service cannot be reached (a mirror-only or offline machine), pip-audit does not fail: it
skips every package ("not found on PyPI") and says "No known vulnerabilities found". This gate
reads pip-audit's JSON report instead of its exit code and decides:

- any package with a known vulnerability → exit 1, listing each (id, fixed versions);
- packages that could not be audited → a loud WARNING with the count, exit 0 (CI stays green on a
  machine without the service; the warning says nothing was checked);
- pip-audit itself failing without a report → WARNING, exit 0.

Usage: ``python scripts/audit_gate.py [constraints.txt]`` (``PIP_AUDIT`` names the binary), or
``python scripts/audit_gate.py --report report.json`` to judge a saved report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def judge(report: dict[str, Any]) -> tuple[int, list[str]]:
    """Exit status and the lines to print, for one pip-audit JSON report."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    lines = []
    for d in vulnerable:
        for v in d["vulns"]:
            fixes = ", ".join(v.get("fix_versions") or []) or "no fix yet"
            lines.append(f"VULNERABLE {d['name']} {d.get('version', '?')}: {v.get('id')} (fixed in {fixes})")
    if skipped:
        lines.append(
            f"WARNING: pip-audit could not audit {len(skipped)} of {len(deps)} packages "
            f"(vulnerability service unreachable?): {skipped[0].get('skip_reason', '')}"
        )
    if vulnerable:
        lines.append(f"audit: {len(vulnerable)} vulnerable packages of {audited} audited")
        return 1, lines
    lines.append(f"audit: {audited} of {len(deps)} packages audited, no known vulnerabilities")
    return 0, lines


def run(requirements: str) -> int:
    binary = os.environ.get("PIP_AUDIT", str(Path(sys.executable).with_name("pip-audit")))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [binary, "-r", requirements, "--no-deps", "--disable-pip", "--progress-spinner", "off"]
        cmd += ["-f", "json", "-o", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603 (our own pip-audit)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"WARNING: pip-audit did not run ({exc}); dependencies NOT audited")
            return 0
        if not out.exists() or not out.read_text().strip():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            print(f"WARNING: pip-audit gave no report (exit {proc.returncode}); dependencies NOT audited")
            for line in tail:
                print(f"  {line}")
            return 0
        report = json.loads(out.read_text())
    status, lines = judge(report)
    for line in lines:
        print(line)
    return status


def main(argv: list[str]) -> int:
    if argv[:1] == ["--report"]:
        status, lines = judge(json.loads(Path(argv[1]).read_text()))
        print("\n".join(lines))
        return status
    return run(argv[0] if argv else "constraints.txt")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
