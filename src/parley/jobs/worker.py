"""Run jobs: a daemon thread inside each app process (default), or ``parley worker`` on its own."""

from __future__ import annotations

import logging
import threading
from typing import Any

from parley.jobs.services import run_due

log = logging.getLogger("parley.jobs")


class Worker:
    def __init__(self, registry: Any, interval: float = 1.0) -> None:
        self.registry = registry
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="parley-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run soon (called after a request enqueued work)."""
        self._wake.set()

    def loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = run_due(self.registry)
            except Exception:  # database briefly unavailable: try again next tick
                log.exception("job worker tick failed")
                ran = 0
            if ran == 0:
                self._wake.wait(self.interval)
                self._wake.clear()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
