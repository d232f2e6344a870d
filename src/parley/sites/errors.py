"""Errors of the sites domain."""

from __future__ import annotations

from parley.errors import AppError, ErrorCode


class SiteNotFound(AppError):
    code = ErrorCode.SITE_NOT_FOUND
    status = 404
    message = "This site does not exist."


class SiteExists(AppError):
    code = ErrorCode.CONFLICT
    status = 409
    message = "A site with this slug exists already."
