"""Pure ASGI middleware: request size limit (before any parsing) and security headers."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _problem_bytes(status: int, code: str, title: str) -> bytes:
    return orjson.dumps(
        {
            "type": f"urn:parley:problem:{code}",
            "title": title,
            "status": status,
            "code": code,
            "detail": title,
        }
    )


async def _send_problem(send: Send, status: int, code: str, title: str) -> None:
    body = _problem_bytes(status, code, title)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit (rendered as a 413 problem).

    FastAPI's HTTPException, not Starlette's: FastAPI turns any other exception raised while it
    reads a body into a 400 "error parsing the body", which would hide the 413.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(value: bytes) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters ignored."""
    media = value.split(b";", 1)[0].strip().lower()
    kind, _, subtype = media.partition(b"/")
    return kind == b"application" and (subtype == b"json" or subtype.endswith(b"+json"))


class BodyLimitMiddleware:
    """The gate every request body passes before anything parses it.

    - Size: bodies over ``max_bytes`` are refused (413), by Content-Length up front or while a
      chunked body streams in, so a 10 MB JSON document never reaches the parser or validators.
    - Type: the API reads JSON only. A body sent to ``/api/`` with another (or no) Content-Type is
      refused with 415 instead of being handed to the validators as raw bytes; that also keeps
      HTML forms and ``text/plain`` requests from other origins (CSRF's favourite vehicles) out.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        content_type: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    await _send_problem(send, 400, "bad_request", "Invalid Content-Length header.")
                    return
            elif name == b"content-type":
                content_type = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared > self.max_bytes:
            await _send_problem(send, 413, "payload_too_large", "The request is too large.")
            return
        has_body = chunked or bool(declared)
        if (
            has_body
            and scope["method"] in _BODY_METHODS
            and scope["path"].startswith("/api/")
            and not is_json_media_type(content_type or b"")
        ):
            await _send_problem(send, 415, "unsupported_media_type", "Send the request body as JSON.")
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_problem(send, 413, "payload_too_large", "The request is too large.")


class SecurityHeadersMiddleware:
    """Headers every response carries; HTML pages get a strict CSP unless a view set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                names = {h[0].lower() for h in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append(
                        (
                            b"content-security-policy",
                            b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                            b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                            b"frame-ancestors 'self'",
                        )
                    )
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
