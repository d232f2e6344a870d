"""Privacy of the logs: after everything else of the session has run, no log line holds a comment
body, an e-mail address or a client address.

Ordered last in the session (``tests/security/conftest.py``). It reads every log the session wrote:

- ``suite-app.log``: every record of every suite, through a handler on the root logger
  (``tests/conftest.py``), at the levels the loggers let through;
- ``security-app.log``: the battery's tests with the ``parley`` and ``uvicorn`` loggers at DEBUG;
- ``parley-<port>.log``: stdout and stderr of every real ``parley serve`` process the session
  started (the battery starts them at INFO with the access log on, as in production).

What is looked for: the battery's private mark (:data:`seckit.MARK`, in every body it posts), any
e-mail address, and client addresses from the ranges the tests use for readers (TEST-NET
203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32 and the 10.0.0.0/8 readers of the crash test).
Loopback is the test harness's own address, not a reader's, and is not counted. Run alone, the file
checks whatever logs exist (at least its own control); run with the suite, it checks the suite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from seckit import MARK, private_body, private_email

PATTERNS = {
    "comment body": re.compile(re.escape(MARK)),
    "e-mail address": re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "client address": re.compile(
        r"(?<![\d.])(?:203\.0\.113|198\.51\.100|10\.\d{1,3}\.\d{1,3})\.\d{1,3}(?![\d.])|2001:db8:[0-9a-f:]*",
        re.IGNORECASE,
    ),
}


def leaks(lines: Iterator[tuple[str, int, str]]) -> list[str]:
    found = []
    for name, lineno, line in lines:
        for what, pattern in PATTERNS.items():
            if pattern.search(line):
                found.append(f"{name}:{lineno}: {what}: {line[:200]}")
    return found


def log_files(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*.log") if p.is_file())


def lines_of(files: list[Path]) -> Iterator[tuple[str, int, str]]:
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                yield path.name, n, line


def test_the_detector_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The control: a planted line of each kind is found, a clean line is not."""
    planted = tmp_path / "planted.txt"  # not a .log: the session check must not read it
    planted.write_text(
        f"INFO parley.x: posted {private_body()}\n"
        f"INFO parley.x: mail to {private_email()}\n"
        "INFO uvicorn.access: 203.0.113.7:5123 - GET /\n"
        "INFO uvicorn.access: [2001:db8::5]:5123 - GET /\n"
        "INFO parley.x: proxy 10.3.4.5 said so\n"
        "INFO uvicorn.error: Uvicorn running on http://127.0.0.1:8000 (version 0.38.0.1)\n",
        encoding="utf-8",
    )
    found = leaks(lines_of([planted]))
    assert [f.split(": ", 2)[1] for f in found] == [
        "comment body",
        "e-mail address",
        "client address",
        "client address",
        "client address",
    ]


def test_no_log_line_holds_a_body_an_e_mail_or_a_client_address(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # this test's own record goes through the same handlers: the files exist and are read
    logging.getLogger("parley.privacy_check").warning("privacy check of the session's logs")
    base = tmp_path_factory.getbasetemp()
    files = log_files(base)
    assert files, f"no log files under {base}"
    read = sum(1 for _ in lines_of(files))
    found = leaks(lines_of(files))
    print(f"privacy: {len(files)} log files, {read} lines read, {len(found)} leaks")
    assert not found, f"{len(found)} log lines leak private data:\n" + "\n".join(found[:40])
