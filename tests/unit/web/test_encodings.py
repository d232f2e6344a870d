"""Content negotiation and the codings themselves (parley.web.encodings)."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from parley.web.encodings import StreamEncoder, encode, negotiate, qualities, tagged


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),  # a browser over HTTPS: Brotli on a tie
        ("gzip, deflate", "gzip"),  # a browser over plain HTTP
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("br;q=1.0, gzip;q=0.8", "br"),
        ("gzip;q=0", None),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("identity", None),
        ("deflate", None),
        ("*", "br"),
        ("*;q=0.3, br;q=0.2", "gzip"),
        ("br;q=0, *", "gzip"),
        ("gzip;q=abc", None),
        ("gzip;q=2", None),
        ("gzip;q=nan", None),
        ("gzip ; q = 0.5", "gzip"),
        (",,;,", None),
        ("br, br;q=0", "br"),  # the first mention counts
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_negotiate_only_among_what_is_offered() -> None:
    assert negotiate("br, gzip", ("gzip",)) == "gzip"
    assert negotiate("br", ("gzip",)) is None
    assert negotiate("br, gzip", ()) is None


def test_qualities() -> None:
    assert qualities("br;q=0.9, gzip, *;q=0.1") == {"br": 0.9, "gzip": 1.0, "*": 0.1}


def test_whole_bodies_round_trip_and_are_deterministic() -> None:
    body = "Kommentar über die Wahl, ".encode() * 200
    assert brotli.decompress(encode(body, "br")) == body
    assert gzip.decompress(encode(body, "gzip")) == body
    assert encode(body, "gzip") == encode(body, "gzip")  # no timestamp: instances agree on ETags
    assert encode(body, "br") == encode(body, "br")
    assert len(encode(body, "br")) < len(body) // 10


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_stream_encoder_round_trips_in_chunks(coding: str) -> None:
    chunks = [f"{i};Zeile {i} der Ausfuhr\n".encode() * 50 for i in range(40)]
    encoder = StreamEncoder(coding)  # type: ignore[arg-type]
    out = b"".join(encoder.chunk(c, last=False) for c in chunks) + encoder.chunk(b"", last=True)
    whole = b"".join(chunks)
    decoded = brotli.decompress(out) if coding == "br" else zlib.decompress(out, 31)
    assert decoded == whole


def test_tags_per_representation() -> None:
    assert tagged('"abc"', "br") == '"abc-br"'
    assert tagged('"abc"', "gzip") == '"abc-gz"'
    assert tagged('"abc"', None) == '"abc"'
    assert tagged('W/"abc"', "br") == 'W/"abc"'  # a weak tag names the content, not the bytes


def test_long_headers_are_negotiated_too() -> None:
    padding = ", ".join(f"x-coding-{i};q=0.1" for i in range(40))
    assert len(padding) > 200
    assert negotiate(padding + ", gzip") == "gzip"
    assert negotiate(padding + ", br;q=0.9, gzip;q=0.8") == "br"
