"""The HTTP helpers of the cache: keys, ETags, If-None-Match, Accept-Encoding, Cache-Control."""

from __future__ import annotations

import gzip

import pytest
from starlette.requests import Request

from parley.cache.http import (
    accepts_gzip,
    cache_control,
    cache_key,
    has_credentials,
    if_none_match,
    make_entry,
)
from parley.config import Settings


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


def test_keys_are_short_stable_and_change_with_any_part() -> None:
    a = cache_key("thread", 1, 7, "best", 50, None, {"status": "open"})
    assert a == cache_key("thread", 1, 7, "best", 50, None, {"status": "open"})
    assert a != cache_key("thread", 1, 8, "best", 50, None, {"status": "open"})
    assert a != cache_key("thread", 1, 7, "best", 50, None, {"status": "closed"})
    assert a.startswith("thread:")
    assert len(a) < 40


def test_entries_compress_only_when_large() -> None:
    small = make_entry(b"{}", 1024)
    assert small.gzip is None
    big = make_entry(b'{"x": "' + b"a" * 5000 + b'"}', 1024)
    assert big.gzip is not None
    assert gzip.decompress(big.gzip) == big.body
    assert big.etag != make_entry(b"{}", 1024).etag
    assert make_entry(big.body, 1024) == big  # deterministic (mtime 0): instances agree on ETags


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("*", True),
        ("gzip;q=abc", False),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(request(accept_encoding=header)) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
        (",,,", False),
    ],
)
def test_if_none_match(header: str, expected: bool) -> None:
    assert if_none_match(request(if_none_match=header), ('"abc"', '"abc-gz"')) is expected
    assert if_none_match(request(), ('"abc"',)) is False


def test_credentials() -> None:
    assert has_credentials(request(authorization="Bearer x"))
    assert has_credentials(request(cookie="parley_session=abc"))
    assert not has_credentials(request(cookie="other=1"))
    assert not has_credentials(request())


def test_cache_control() -> None:
    settings = Settings(http_max_age=1, http_s_maxage=2, http_stale_while_revalidate=3)
    assert cache_control(settings, public=True) == "public, max-age=1, s-maxage=2, stale-while-revalidate=3"
    assert cache_control(settings, public=False) == "private, no-cache"
