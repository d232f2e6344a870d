"""Warnings of stores that fail open (Redis, the machine's shared file): at most one per kind of
trouble and interval, or a store that is down would flood the log with one line per request."""

from __future__ import annotations

import logging
import time


class Warner:
    """Logs ``"<subject>: <what> (<exception type>)"`` at most once per ``every`` seconds for each
    ``what``. Only the exception's type is logged: its message may hold keys or data."""

    def __init__(self, log: logging.Logger, subject: str, every: float = 60.0) -> None:
        self.log = log
        self.subject = subject
        self.every = every
        self._last: dict[str, float] = {}

    def warn(self, what: str, exc: BaseException | None = None) -> None:
        now = time.monotonic()
        if now - self._last.get(what, -1e9) >= self.every:
            self._last[what] = now
            reason = f" ({type(exc).__name__})" if exc else ""
            self.log.warning("%s: %s%s", self.subject, what, reason)
