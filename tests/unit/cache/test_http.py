"""The HTTP helpers of the cache: keys, ETags, If-None-Match, Accept-Encoding, Cache-Control."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.requests import Request

from parley.cache.http import (
    cache_control,
    cache_key,
    completed,
    has_credentials,
    if_none_match,
    make_entry,
    plan,
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
    assert small.br is None
    big = make_entry(b'{"x": "' + b"a" * 5000 + b'"}', 1024)
    assert big.gzip is not None
    assert big.br is not None
    assert gzip.decompress(big.gzip) == big.body
    assert brotli.decompress(big.br) == big.body
    assert big.etag != make_entry(b"{}", 1024).etag
    assert make_entry(big.body, 1024) == big  # deterministic (mtime 0): instances agree on ETags
    assert make_entry(big.body, 1024, ("gzip",)).br is None


BIG = make_entry(b'{"comments": "' + b"ein Kommentar " * 400 + b'"}', 1024)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0", None),
        ("", None),
        ("identity", None),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
    ],
)
def test_plan_sends_the_coding_the_client_prefers(accept: str, coding: str | None) -> None:
    status, body, headers = plan(
        BIG, Settings(), accept_encoding=accept, if_none_match_header=None, public=True
    )
    assert status == 200
    assert body is not None
    assert headers.get("Content-Encoding") == coding
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](body)
    assert decoded == BIG.body
    suffix = {"br": '-br"', "gzip": '-gz"', None: '"'}[coding]
    assert headers["ETag"].endswith(suffix)
    assert headers["ETag"].startswith(BIG.etag[:-1])
    assert "Accept-Encoding" in headers["Vary"]


def test_plan_answers_304_for_any_representations_tag() -> None:
    for tag in (BIG.etag, BIG.etag[:-1] + '-gz"', BIG.etag[:-1] + '-br"'):
        status, body, headers = plan(
            BIG, Settings(), accept_encoding="br", if_none_match_header=tag, public=True
        )
        assert (status, body) == (304, None)
        assert headers["ETag"] == BIG.etag[:-1] + '-br"'  # the tag of what this client would get
    status, _, _ = plan(BIG, Settings(), accept_encoding="br", if_none_match_header='"other"', public=True)
    assert status == 200


def test_plan_offers_only_what_the_entry_stores() -> None:
    gzip_only = make_entry(BIG.body, 1024, ("gzip",))
    _, body, headers = plan(
        gzip_only, Settings(), accept_encoding="br, gzip", if_none_match_header=None, public=True
    )
    assert headers["Content-Encoding"] == "gzip"
    assert body == gzip_only.gzip
    _, body, headers = plan(
        gzip_only, Settings(), accept_encoding="br", if_none_match_header=None, public=True
    )
    assert "Content-Encoding" not in headers
    assert body == gzip_only.body


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


def test_codings_are_made_when_first_asked_for() -> None:
    settings = Settings()
    plain = make_entry(BIG.body, 1024, ())
    assert completed(plain, settings, "") is None
    assert completed(plain, settings, "identity") is None
    with_br = completed(plain, settings, "gzip, deflate, br")
    assert with_br is not None
    assert with_br.br == BIG.br
    assert with_br.gzip is None
    assert (with_br.body, with_br.etag) == (plain.body, plain.etag)
    assert completed(with_br, settings, "br") is None  # made: nothing to add
    both = completed(with_br, settings, "gzip")
    assert both == BIG
    assert completed(make_entry(b"{}", 1024, ()), settings, "br") is None  # small: sent as it is
    assert completed(plain, settings.model_copy(update={"compress_brotli": False}), "br") is None
    # an entry nobody completed is sent in what it has
    _, body, headers = plan(with_br, settings, accept_encoding="gzip", if_none_match_header=None, public=True)
    assert body == plain.body
    assert "Content-Encoding" not in headers
    assert headers["ETag"] == plain.etag
