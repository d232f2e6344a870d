"""Job handlers of the privacy domain (found by ``parley.jobs.services.load_handlers``).

``privacy.purge`` runs the retention purge and, when started with ``{"daily": true}`` (``parley privacy
purge --daily``), queues itself for the next day, so no cron entry is needed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley.jobs.services import JobContext, do_enqueue, handler
from parley.privacy.retention import do_purge

log = logging.getLogger("parley.privacy")
JOB_KIND = "privacy.purge"
DAY = 86400.0


def do_schedule_daily_purge(session: Session, now: datetime, delay: float = 0) -> bool:
    """Queue the daily purge (once per day: a second call for the same day does nothing)."""
    day = datetime.fromtimestamp(now.timestamp() + delay, tz=now.tzinfo).date().isoformat()
    job = do_enqueue(session, JOB_KIND, {"daily": True}, now, delay=delay, dedupe_key=f"{JOB_KIND}:{day}")
    return job is not None


@handler(JOB_KIND)
def purge(ctx: JobContext, payload: dict[str, Any]) -> None:
    registry = ctx.registry
    with registry.db.write() as session:
        now = registry.clock.now()
        result = do_purge(session, registry.settings, now)
        if payload.get("daily"):
            do_schedule_daily_purge(session, now, delay=DAY)
    log.info("retention purge: %s", asdict(result))
