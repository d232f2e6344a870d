"""Job handlers of the privacy domain (found by ``parley.jobs.services.load_handlers``)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from parley.jobs.services import JobContext, handler
from parley.privacy.retention import do_purge

log = logging.getLogger("parley.privacy")


@handler("privacy.purge")
def purge(ctx: JobContext, payload: dict[str, Any]) -> None:
    registry = ctx.registry
    with registry.db.write() as session:
        result = do_purge(session, registry.settings, registry.clock.now())
    log.info("retention purge: %s", asdict(result))
