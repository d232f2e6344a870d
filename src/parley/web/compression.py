"""Brotli and gzip for large responses, as pure ASGI middleware.

Starlette's ``GZipMiddleware`` would do for gzip, but it compresses what it should not here: it
rewrites nothing for strong ETags (a gzip body under the identity body's ETag breaks conditional
requests through caches) and it buffers event streams. This one:

- compresses only when the client accepts Brotli or gzip (:func:`parley.web.encodings.negotiate`:
  the client's preference, Brotli on a tie), the body is at least ``min_bytes``, the status is 200,
  and the media type is text-like (JSON, HTML, CSS, JavaScript, XML, plain text, metrics);
- leaves alone responses that set ``Content-Encoding`` themselves (``/embed.js`` ships
  pre-compressed; the cached thread views store their codings once per thread version), that say
  ``Cache-Control: no-transform``, and ``text/event-stream`` (SSE must flush event by event);
- compresses a streamed body chunk by chunk once it passes ``min_bytes`` (an audit export is
  never held in memory whole);
- suffixes a strong ``ETag`` with ``-br`` or ``-gz`` (a different representation) and adds
  ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.web.encodings import Coding, StreamEncoder, encode, negotiate, offered, tagged

_TYPES = (
    b"application/json",
    b"application/problem+json",
    b"application/javascript",
    b"application/xml",
    b"image/svg+xml",
    b"text/html",
    b"text/css",
    b"text/javascript",
    b"text/plain",
    b"text/csv",
    b"text/xml",
)


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, min_bytes: int = 1024, *, brotli: bool = True) -> None:
        self.app = app
        self.min_bytes = min_bytes
        self.offered = offered(brotli)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = None
        if scope["type"] == "http":
            coding = negotiate(Headers(scope=scope).get("accept-encoding"), self.offered)
        if coding is None:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False
        stream: StreamEncoder | None = None  # once a streamed body turned out large

        async def compressing_send(message: Message) -> None:
            nonlocal start, passthrough, stream
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                if self._eligible(message):
                    start = message  # hold it until the body shows whether it is worth it
                else:
                    passthrough = True
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if stream is not None:  # streaming: compress chunk by chunk, never hold the whole body
                out = stream.chunk(body, last=not more)
                await send({"type": "http.response.body", "body": out, "more_body": more})
                return
            if not more and not chunks:
                await self._finish(send, start, body, coding)
                return
            chunks.append(body)
            if sum(map(len, chunks)) >= self.min_bytes:  # large and still coming: stream it out
                stream = StreamEncoder(coding)
                headers = self._encoded_headers(start, coding)
                del headers["content-length"]
                await send({**start, "headers": headers.raw})
                out = stream.chunk(b"".join(chunks), last=not more)
                chunks.clear()
                await send({"type": "http.response.body", "body": out, "more_body": more})
                return
            if not more:
                await self._finish(send, start, b"".join(chunks), coding)

        await self.app(scope, receive, compressing_send)

    def _eligible(self, message: Message) -> bool:
        if message["status"] != 200:
            return False
        headers = Headers(raw=message.get("headers", []))
        if "content-encoding" in headers or "no-transform" in headers.get("cache-control", "").lower():
            return False
        ctype = headers.get("content-type", "").encode("latin-1").split(b";")[0].strip().lower()
        if ctype == b"text/event-stream":
            return False
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) < self.min_bytes:
            return False
        return ctype in _TYPES

    @staticmethod
    def _encoded_headers(start: Message, coding: Coding) -> MutableHeaders:
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        headers["Content-Encoding"] = coding
        etag = headers.get("etag")
        if etag:
            headers["ETag"] = tagged(etag, coding)
        vary = headers.get("vary")
        if vary is None:
            headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            headers["Vary"] = vary + ", Accept-Encoding"
        return headers

    async def _finish(self, send: Send, start: Message, body: bytes, coding: Coding) -> None:
        """A body that came whole (or small): compress it in one go if it is large enough."""
        if len(body) < self.min_bytes:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        body = encode(body, coding)
        headers = self._encoded_headers(start, coding)
        headers["Content-Length"] = str(len(body))
        out: dict[str, Any] = {**start, "headers": headers.raw}
        await send(out)
        await send({"type": "http.response.body", "body": body})
