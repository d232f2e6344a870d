"""Errors of the appeals domain (stable codes in :class:`parley.errors.ErrorCode`)."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class AppealExists(AppError):
    code = ErrorCode.APPEAL_EXISTS
    status = 409
    message = "This decision has been appealed already. Each decision can be appealed once."


class AppealWindowClosed(AppError):
    code = ErrorCode.APPEAL_WINDOW_CLOSED
    status = 409
    message = "The time to appeal this decision has passed."


class AppealNotAuthor(AppError):
    code = ErrorCode.APPEAL_NOT_AUTHOR
    status = 403
    message = "Only the author concerned can appeal this decision."


class DecisionSuperseded(AppError):
    code = ErrorCode.DECISION_SUPERSEDED
    status = 409
    message = "This decision has been replaced by a later one; there is nothing left to appeal."


class AppealSameModerator(AppError):
    code = ErrorCode.APPEAL_SAME_MODERATOR
    status = 403
    message = "An appeal must be decided by someone other than the moderator who made the decision."


class AppealDecided(AppError):
    code = ErrorCode.APPEAL_DECIDED
    status = 409
    message = "This appeal has been decided already."
