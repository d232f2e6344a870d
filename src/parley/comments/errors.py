"""Errors of the comments domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class ThreadNotFound(AppError):
    code = ErrorCode.THREAD_NOT_FOUND
    status = 404
    message = "There is no comment thread for this article."


class ThreadClosed(AppError):
    code = ErrorCode.THREAD_CLOSED
    status = 409
    message = "Comments on this story are closed."


class CommentNotFound(AppError):
    code = ErrorCode.NOT_FOUND
    status = 404
    message = "This comment does not exist (any more)."


class InvalidParent(AppError):
    code = ErrorCode.INVALID_PARENT
    status = 422
    message = "The comment you reply to is not in this thread or not visible."


class EditWindowClosed(AppError):
    code = ErrorCode.EDIT_WINDOW_CLOSED
    status = 403
    message = "The time for editing this comment has run out."


class CommentNotEditable(AppError):
    code = ErrorCode.COMMENT_NOT_EDITABLE
    status = 409
    message = "This comment can no longer be changed."


class GuestsNotAllowed(AppError):
    code = ErrorCode.GUESTS_NOT_ALLOWED
    status = 401
    message = "Please log in to comment on this site."


class IdempotencyMismatch(AppError):
    code = ErrorCode.IDEMPOTENCY_MISMATCH
    status = 422
    message = "This Idempotency-Key was used for a different request."
