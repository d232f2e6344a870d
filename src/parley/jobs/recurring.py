"""Recurring jobs (the moderators' digest, the retention purge) are queued when a worker starts.

Each reschedules itself for the next day; queueing is deduplicated per day, so every instance and
restart may call :func:`do_ensure_recurring` safely — no cron entry is needed.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("parley.jobs")


def do_ensure_recurring(registry: Any) -> None:
    from parley.notifications.jobs import do_schedule_daily_digest
    from parley.privacy.jobs import do_schedule_daily_purge

    try:
        with registry.db.write() as session:
            now = registry.clock.now()
            do_schedule_daily_digest(session, now)
            do_schedule_daily_purge(session, now)
    except Exception:  # a database not migrated yet must not keep the server from starting
        log.exception("could not queue the recurring jobs")
