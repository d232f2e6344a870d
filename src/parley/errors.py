"""The one error type of Parley, and its stable codes.

Every failure that reaches a client is an :class:`AppError` (or a subclass a domain defines in its
own ``errors.py``). The web layer renders it as ``application/problem+json``::

    AppError                      code, HTTP status, public message, private context, headers
     ├── ValidationFailed         validation_failed (422), with per-field errors
     ├── NotFound                 not_found (404)
     ├── Forbidden                forbidden (403)
     ├── Unauthorized             unauthorized (401)
     ├── Conflict                 conflict (409)
     └── RateLimited              rate_limited (429) + Retry-After

Codes are part of the public API: clients branch on them, so a code is never renamed or reused.
The public ``message`` is an English msgid that the i18n layer translates; ``context`` is for logs
only and must never hold comment bodies, e-mail addresses or raw IPs.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable machine-readable error codes (the ``code`` member of a problem document)."""

    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    VALIDATION_FAILED = "validation_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    # comments
    BODY_TOO_LONG = "body_too_long"
    BODY_TOO_SHORT = "body_too_short"
    THREAD_CLOSED = "thread_closed"
    THREAD_NOT_FOUND = "thread_not_found"
    INVALID_PARENT = "invalid_parent"
    EDIT_WINDOW_CLOSED = "edit_window_closed"
    GUESTS_NOT_ALLOWED = "guests_not_allowed"
    INVALID_CURSOR = "invalid_cursor"
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
    COMMENT_NOT_EDITABLE = "comment_not_editable"
    # accounts
    NAME_TAKEN = "name_taken"
    NAME_INVALID = "name_invalid"
    EMAIL_TAKEN = "email_taken"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_SUSPENDED = "account_suspended"
    ACCOUNT_BANNED = "account_banned"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
    SSO_NOT_CONFIGURED = "sso_not_configured"
    CONFIRMATION_INVALID = "confirmation_invalid"
    # sites
    SITE_NOT_FOUND = "site_not_found"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    # appeals and moderator actions (workspace)
    APPEAL_EXISTS = "appeal_exists"
    APPEAL_WINDOW_CLOSED = "appeal_window_closed"
    APPEAL_NOT_AUTHOR = "appeal_not_author"
    APPEAL_SAME_MODERATOR = "appeal_same_moderator"
    APPEAL_DECIDED = "appeal_decided"
    DECISION_SUPERSEDED = "decision_superseded"
    NOTHING_TO_UNDO = "nothing_to_undo"


class AppError(Exception):
    """Base of every error Parley reports to a client.

    ``message`` is public and safe to show (an English msgid, translated on rendering);
    ``context`` is private, for logs only; ``headers`` go onto the response (e.g. Retry-After).
    """

    code: ErrorCode = ErrorCode.BAD_REQUEST
    status: int = 400
    message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: ErrorCode | None = None,
        status: int | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.params: dict[str, Any] = dict(params or {})
        self.context: dict[str, Any] = dict(context or {})
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, Any] = dict(extra or {})
        super().__init__(f"{self.code}: {self.message}")


class FieldError(dict[str, str]):
    """One failed field: ``{"field": "body", "code": "too_long", "message": "..."}``."""


class ValidationFailed(AppError):
    code = ErrorCode.VALIDATION_FAILED
    status = 422
    message = "The request has invalid fields."

    def __init__(self, errors: list[dict[str, str]], message: str | None = None) -> None:
        super().__init__(message, extra={"errors": errors})
        self.errors = errors


class NotFound(AppError):
    code = ErrorCode.NOT_FOUND
    status = 404
    message = "Not found."


class Unauthorized(AppError):
    code = ErrorCode.UNAUTHORIZED
    status = 401
    message = "You need to log in for this."


class Forbidden(AppError):
    code = ErrorCode.FORBIDDEN
    status = 403
    message = "You are not allowed to do this."


class Conflict(AppError):
    code = ErrorCode.CONFLICT
    status = 409
    message = "The request conflicts with the current state."


class RateLimited(AppError):
    code = ErrorCode.RATE_LIMITED
    status = 429
    message = "Too many requests. Please wait a moment."

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(
            message,
            headers={"Retry-After": str(seconds)},
            extra={"retry_after": seconds},
        )
        self.retry_after = seconds
