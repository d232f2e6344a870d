"""Errors of the notifications domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class InvalidUnsubscribeLink(AppError):
    code = ErrorCode.INVALID_TOKEN
    status = 400
    message = "This unsubscribe link is invalid."
