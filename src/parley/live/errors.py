"""Errors of the live-updates domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class LiveUnavailable(AppError):
    """Live updates are switched off on this server (``live_max_connections = 0``)."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
    message = "Live updates are switched off."
