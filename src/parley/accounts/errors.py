"""Errors of the accounts domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode
from parley.moderation import names as engine_names

# One error for a name that looks like another: the moderation engine owns the rule and the text.
NameTaken = engine_names.NameTaken


class NameInvalid(engine_names.NameInvalid):
    """Too short, too long or unprintable (the engine's NameInvalid covers unreadable names)."""

    message = "Names need 2 to {max} visible characters."


class EmailTaken(AppError):
    code = ErrorCode.EMAIL_TAKEN
    status = 409
    message = "An account with this e-mail address exists already."


class InvalidCredentials(AppError):
    code = ErrorCode.INVALID_CREDENTIALS
    status = 401
    message = "E-mail address or password is wrong."


class AccountSuspended(AppError):
    code = ErrorCode.ACCOUNT_SUSPENDED
    status = 403
    message = "Your account is suspended."


class AccountBanned(AppError):
    code = ErrorCode.ACCOUNT_BANNED
    status = 403
    message = "Your account is banned."


class InvalidToken(AppError):
    code = ErrorCode.INVALID_TOKEN
    status = 401
    message = "The sign-in token is invalid or expired."


class ConfirmationInvalid(AppError):
    """A registration link that is wrong, expired or used already (alike: nothing to tell apart)."""

    code = ErrorCode.CONFIRMATION_INVALID
    status = 400
    message = "This confirmation link is invalid, expired or used already. Please sign up again."


class SsoNotConfigured(AppError):
    code = ErrorCode.SSO_NOT_CONFIGURED
    status = 400
    message = "Single sign-on is not configured for this site."


class CsrfFailed(AppError):
    code = ErrorCode.CSRF_FAILED
    status = 403
    message = "The request is missing its CSRF token. Reload the page and try again."
