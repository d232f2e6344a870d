"""uvicorn's access log without personal data: no client address, no query string.

uvicorn's own format starts every line with the client's address and logs the full request
target, whose query string can hold an e-mail address (a workspace search) or a signed link. This
filter rewrites each access record before any handler formats it: the address becomes ``-`` and
the query string is dropped, so the line keeps what operations need (method, path, status).
"""

from __future__ import annotations

import copy
import logging
from typing import Any


class PrivateAccessFilter(logging.Filter):
    """For the ``uvicorn.access`` logger: ``(client, method, target, version, status)`` arguments
    become ``("-", method, path, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, target, version, status = args
            path = str(target).split("?", 1)[0]
            record.args = ("-", method, path, version, status)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`PrivateAccessFilter` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["private"] = {"()": "parley.web.accesslog.PrivateAccessFilter"}
    config["handlers"]["access"].setdefault("filters", []).append("private")
    return config
