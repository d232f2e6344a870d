"""Render every error as ``application/problem+json`` (RFC 9457) with a stable ``code``.

``{"type", "title", "status", "code", "detail"}`` plus ``errors`` (per-field) for validation
failures and ``retry_after`` for rate limits and a database that cannot serve just now (503).
Nothing internal (stack traces, SQL, bodies) leaks.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parley import i18n
from parley.errors import AppError, ErrorCode
from parley.web.responses import ProblemResponse

log = logging.getLogger("parley.errors")

_STATUS_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.BAD_REQUEST, "The request could not be processed."),
    401: (ErrorCode.UNAUTHORIZED, "You need to log in for this."),
    403: (ErrorCode.FORBIDDEN, "You are not allowed to do this."),
    404: (ErrorCode.NOT_FOUND, "Not found."),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed here."),
    406: (ErrorCode.BAD_REQUEST, "The requested representation is not available."),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "The request is too large."),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the request body as JSON."),
    422: (ErrorCode.VALIDATION_FAILED, "The request has invalid fields."),
    429: (ErrorCode.RATE_LIMITED, "Too many requests. Please wait a moment."),
}


UNAVAILABLE_TITLE = (
    "The service is briefly unavailable. Nothing you sent was stored half-way; please try again."
)
UNAVAILABLE_RETRY_SECONDS = 5
_SQLITE_TRANSIENT = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve just now — PostgreSQL stopped, restarting or
    out of reach, a connection lost, a deadlock or serialization failure, the pool exhausted, SQLite
    busy past its timeout — rather than that the request or the code is wrong (a missing table is
    SQLite's ``OperationalError`` too, and stays a 500)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc.orig, sqlite3.Error):
        return (getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_TRANSIENT
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


class FieldErrorOut(BaseModel):
    """One invalid field of a ``validation_failed`` problem."""

    field: str
    code: str
    message: str


class ProblemOut(BaseModel):
    """An error (RFC 9457 problem details). Branch on ``code``; show ``title``/``detail``.

    Some problems carry more members: ``errors`` (per-field, ``validation_failed``), ``retry_after``
    (``rate_limited`` and ``service_unavailable``, also as the Retry-After header), ``collides_with``
    (``name_taken``) and the like; clients must ignore members they do not know.
    """

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    code: ErrorCode
    detail: str
    errors: list[FieldErrorOut] | None = None
    retry_after: int | None = None


PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's errors: each status documented as problem+json, plus a
    ``default`` entry for the rest (413 from the size limit, 401 for a bad token, 500 ...)."""
    entries: dict[int | str, str] = dict(descriptions.items())
    entries["default"] = "Any other error"
    out: dict[int | str, dict[str, Any]] = {}
    for status, description in entries.items():
        out[status] = {
            "description": f"{description} (problem+json)",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
        }
    return out


def _problem_components() -> dict[str, Any]:
    schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components: dict[str, Any] = dict(schema.pop("$defs", {}))
    components["Problem"] = schema
    return components


def _document_problems(app: FastAPI) -> None:
    """Add the Problem schema the routes' error responses refer to (FastAPI only knows models it
    renders as ``application/json``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_problem_components())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def request_locale(request: Request) -> str:
    loc = getattr(request.state, "locale", None)
    if isinstance(loc, str):
        return loc
    return i18n.negotiate([request.query_params.get("lang")], request.headers.get("accept-language"))


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    locale = request_locale(request)
    title_t = i18n.gettext(locale, title, params)
    body: dict[str, Any] = {
        "type": f"urn:parley:problem:{code}",
        "title": title_t,
        "status": status,
        "code": code,
        "detail": i18n.gettext(locale, detail, params) if detail else title_t,
    }
    if extra:
        body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors()[:50]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append(
            {
                "field": ".".join(loc) or "body",
                "code": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "invalid value"))[:300],
            }
        )
    return out


def install(app: FastAPI) -> None:
    _document_problems(app)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if exc.status >= 500:
            log.error("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.code)
        return problem(
            request,
            status=exc.status,
            code=str(exc.code),
            title=exc.message,
            params=exc.params,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        if any(e["code"] == "json_invalid" for e in errors):
            return problem(
                request,
                status=400,
                code=ErrorCode.INVALID_JSON,
                title="The request body is not valid JSON.",
                extra={"errors": errors},
            )
        return problem(
            request,
            status=422,
            code=ErrorCode.VALIDATION_FAILED,
            title="The request has invalid fields.",
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, (ErrorCode.BAD_REQUEST, "The request failed."))
        if exc.status_code == 400 and isinstance(exc.detail, str) and "parsing the body" in exc.detail:
            code, title = ErrorCode.INVALID_JSON, "The request body is not valid JSON."
        headers = dict(exc.headers or {})
        return problem(request, status=exc.status_code, code=code, title=title, headers=headers or None)

    def _internal(request: Request) -> Response:
        # never echo the exception: it may hold SQL, bodies or addresses
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            request,
            status=500,
            code=ErrorCode.INTERNAL_ERROR,
            title="Something went wrong on our side. Nothing you sent was stored half-way.",
        )

    def _unavailable(request: Request, exc: BaseException) -> Response:
        # the driver's class names what failed; its message may hold a host, never needed here
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("database unavailable on %s %s (%s)", request.method, request.url.path, cause)
        return problem(
            request,
            status=503,
            code=ErrorCode.SERVICE_UNAVAILABLE,
            title=UNAVAILABLE_TITLE,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
            extra={"retry_after": UNAVAILABLE_RETRY_SECONDS},
        )

    async def _unexpected(request: Request, exc: Exception) -> Response:
        if database_unavailable(exc):
            return _unavailable(request, exc)
        return _internal(request)

    # A database error raised by a route is answered by its class's handler, without the traceback
    # the outermost handler (``Exception``: whatever a middleware raised, the front cache reads the
    # database too) logs after answering.
    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, Exception):
        app.add_exception_handler(kind, _unexpected)
