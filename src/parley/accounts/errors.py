"""Errors of the accounts domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class NameTaken(AppError):
    """The name looks like an existing account's name or a reserved name."""

    code = ErrorCode.NAME_TAKEN
    status = 409
    message = "This name is taken or looks too much like an existing name. Please choose another."


class NameInvalid(AppError):
    code = ErrorCode.NAME_INVALID
    status = 422
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


class SsoNotConfigured(AppError):
    code = ErrorCode.SSO_NOT_CONFIGURED
    status = 400
    message = "Single sign-on is not configured for this site."


class CsrfFailed(AppError):
    code = ErrorCode.CSRF_FAILED
    status = 403
    message = "The request is missing its CSRF token. Reload the page and try again."
