"""The body gate (size and type before any parsing) and the security headers, as plain ASGI."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from parley.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware, is_json_media_type


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (b"application/json", True),
        (b"Application/JSON; charset=utf-8", True),
        (b"application/merge-patch+json", True),
        (b"application/problem+json", True),
        (b"text/plain", False),
        (b"text/json", False),
        (b"application/x-www-form-urlencoded", False),
        (b"multipart/form-data; boundary=x", False),
        (b"application/jsonx", False),
        (b"", False),
        (b";;;", False),
    ],
)
def test_json_media_types(value: bytes, ok: bool) -> None:
    assert is_json_media_type(value) is ok


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


GATE = BodyLimitMiddleware(_echo, max_bytes=1000)
JSON = (b"content-type", b"application/json")


def test_small_json_bodies_pass() -> None:
    status, _, body = call(GATE, "POST", "/api/v1/x", [JSON, (b"content-length", b"5")], [b"12345"])
    assert (status, body) == (200, b"5")


def test_declared_length_over_the_limit() -> None:
    status, headers, body = call(GATE, "POST", "/api/v1/x", [JSON, (b"content-length", b"1001")], [b""])
    assert status == 413
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(body)["code"] == "payload_too_large"


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3"])
def test_bad_content_length(value: bytes) -> None:
    status, _, body = call(GATE, "POST", "/api/v1/x", [JSON, (b"content-length", value)], [b""])
    assert status == 400
    assert json.loads(body)["code"] == "bad_request"


def test_chunked_bodies_are_counted_while_they_stream() -> None:
    # the inner app reads the body: the gate raises as the limit is crossed (rendered as 413 by the app's
    # exception handler in the real stack); here the gate itself answers since nothing was sent yet
    headers = [JSON, (b"transfer-encoding", b"chunked")]
    status, _, body = call(GATE, "POST", "/api/v1/x", headers, [b"a" * 600, b"a" * 600])
    assert status == 413
    assert json.loads(body)["code"] == "payload_too_large"
    status, _, body = call(GATE, "POST", "/api/v1/x", headers, [b"a" * 400, b"a" * 400])
    assert (status, body) == (200, b"800")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/api/v1/x", [(b"content-type", b"text/plain"), (b"content-length", b"2")], 415),
        ("PUT", "/api/v1/x", [(b"content-length", b"2")], 415),
        ("PATCH", "/api/v1/x", [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")], 415),
        ("POST", "/api/v1/x", [(b"content-type", b"text/plain")], 200),  # no body: nothing to refuse
        ("POST", "/api/v1/x", [(b"content-type", b"text/plain"), (b"content-length", b"0")], 200),
        (
            "POST",
            "/moderate/login",
            [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"2")],
            200,
        ),
        ("DELETE", "/api/v1/x", [(b"content-type", b"text/plain"), (b"content-length", b"2")], 200),
    ],
)
def test_only_json_bodies_reach_the_api(
    method: str, path: str, headers: list[tuple[bytes, bytes]], status: int
) -> None:
    got, _, body = call(
        GATE, method, path, headers, [b"{}" if (b"content-length", b"0") not in headers else b""]
    )
    assert got == status
    if status == 415:
        assert json.loads(body)["code"] == "unsupported_media_type"


async def _html(scope: Any, receive: Any, send: Any) -> None:
    ctype = b"text/html; charset=utf-8" if scope["path"] == "/" else b"application/json"
    extra = [(b"content-security-policy", b"default-src 'none'")] if scope["path"] == "/own" else []
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype), *extra]})
    await send({"type": "http.response.body", "body": b""})


def test_security_headers() -> None:
    app = SecurityHeadersMiddleware(_html)
    _, headers, _ = call(app, "GET", "/", [], [b""])
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"strict-origin-when-cross-origin"
    csp = headers[b"content-security-policy"]
    assert b"script-src 'self'" in csp
    assert b"unsafe-inline" not in csp
    assert b"frame-ancestors" in csp
    _, headers, _ = call(app, "GET", "/api", [], [b""])
    assert b"content-security-policy" not in headers
    assert headers[b"x-content-type-options"] == b"nosniff"
