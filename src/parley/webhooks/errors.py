"""Errors of the webhooks domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode, NotFound


class WebhookNotFound(NotFound):
    message = "This webhook does not exist."


class WebhookTargetRefused(AppError):
    """The URL is malformed or points at an address webhooks may not reach (SSRF protection)."""

    code = ErrorCode.VALIDATION_FAILED
    status = 422
    message = "Webhooks cannot be sent to this URL."
