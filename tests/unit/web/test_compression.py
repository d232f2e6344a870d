"""The compression middleware: Brotli or gzip, as the client prefers; large text-like 200s only;
never event streams, pre-compressed bodies or ``no-transform``; a strong ETag gets the ``-br`` or
``-gz`` suffix; Vary names Accept-Encoding."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from parley.web.compression import CompressionMiddleware

BIG = b'{"text": "' + b"Kommentar " * 300 + b'"}'


async def big(request: Request) -> Response:
    return Response(BIG, media_type="application/json", headers={"ETag": '"v1"', "Vary": "Origin"})


async def small(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


async def precompressed(request: Request) -> Response:
    return Response(gzip.compress(BIG), media_type="text/javascript", headers={"Content-Encoding": "gzip"})


async def no_transform(request: Request) -> Response:
    return Response(BIG, media_type="application/json", headers={"Cache-Control": "no-transform"})


async def image(request: Request) -> Response:
    return Response(BIG, media_type="image/png")


async def events(request: Request) -> StreamingResponse:
    async def stream() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"data: {'x' * 600} {i}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream")


async def chunked(request: Request) -> StreamingResponse:
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield BIG

    return StreamingResponse(stream(), media_type="text/csv")


async def tiny_stream(request: Request) -> StreamingResponse:
    async def stream() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    return StreamingResponse(stream(), media_type="text/plain")


ROUTES = Starlette(
    routes=[
        Route("/big", big),
        Route("/small", small),
        Route("/pre", precompressed),
        Route("/nt", no_transform),
        Route("/img", image),
        Route("/sse", events),
        Route("/csv", chunked),
        Route("/tiny-stream", tiny_stream),
    ]
)
app = CompressionMiddleware(ROUTES, min_bytes=1024)
GZ = {"Accept-Encoding": "gzip"}
BR = {"Accept-Encoding": "gzip, deflate, br"}


def raw(
    path: str, headers: dict[str, str] | None = None, server: object = app
) -> tuple[dict[str, str], bytes]:
    with TestClient(server).stream("GET", path, headers=headers or GZ) as r:  # type: ignore[arg-type]
        return dict(r.headers), b"".join(r.iter_raw())


def test_large_json_is_compressed_with_its_own_etag() -> None:
    headers, body = raw("/big")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == BIG
    assert headers["content-length"] == str(len(body))
    assert headers["etag"] == '"v1-gz"'
    assert headers["vary"] == "Origin, Accept-Encoding"


def test_not_without_accept_encoding() -> None:
    headers, body = raw("/big", {"Accept-Encoding": "identity"})
    assert "content-encoding" not in headers
    assert body == BIG
    assert headers["etag"] == '"v1"'


def test_left_alone() -> None:
    for path in ("/small", "/nt", "/img"):
        headers, _ = raw(path)
        assert "content-encoding" not in headers, path
    headers, body = raw("/pre")
    assert gzip.decompress(body) == BIG  # one layer, not two


def test_event_streams_pass_through_uncompressed() -> None:
    headers, body = raw("/sse")
    assert "content-encoding" not in headers
    assert body.count(b"data: ") == 3


def test_streamed_large_bodies_are_compressed_as_they_stream() -> None:
    headers, body = raw("/csv")
    assert headers["content-encoding"] == "gzip"
    assert "content-length" not in headers
    assert gzip.decompress(body) == BIG * 4


def test_streamed_small_bodies_are_left_alone() -> None:
    headers, body = raw("/tiny-stream")
    assert "content-encoding" not in headers
    assert body == b"ab"


def test_brotli_when_the_client_prefers_it() -> None:
    headers, body = raw("/big", BR)
    assert headers["content-encoding"] == "br"
    assert brotli.decompress(body) == BIG
    assert headers["content-length"] == str(len(body))
    assert headers["etag"] == '"v1-br"'
    assert headers["vary"] == "Origin, Accept-Encoding"
    headers, body = raw("/big", {"Accept-Encoding": "br;q=0.4, gzip;q=0.9"})
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == BIG


def test_streamed_large_bodies_in_brotli() -> None:
    headers, body = raw("/csv", BR)
    assert headers["content-encoding"] == "br"
    assert "content-length" not in headers
    assert brotli.decompress(body) == BIG * 4


@pytest.mark.parametrize("path", ["/big", "/csv"])
def test_gzip_only_when_brotli_is_off(path: str) -> None:
    gzip_only = CompressionMiddleware(ROUTES, min_bytes=1024, brotli=False)
    headers, body = raw(path, BR, gzip_only)
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(BIG)
    headers, body = raw(path, {"Accept-Encoding": "br"}, gzip_only)
    assert "content-encoding" not in headers
