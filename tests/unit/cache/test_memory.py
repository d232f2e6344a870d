"""The in-process LRU: bounded by entries, bytes and age; least recently used goes first."""

from __future__ import annotations

import struct

import pytest

from parley.cache.interfaces import CachedResponse
from parley.cache.memory import MemoryCache


def entry(size: int, tag: str = "x") -> CachedResponse:
    return CachedResponse(body=b"a" * size, etag=f'"{tag}"')


def test_evicts_least_recently_used_by_count() -> None:
    cache = MemoryCache(max_entries=2, max_bytes=1 << 20)
    cache.set("a", entry(1))
    cache.set("b", entry(1))
    assert cache.get("a") is not None  # a is now the most recent
    cache.set("c", entry(1))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert len(cache) == 2


def test_evicts_by_bytes_and_accounts_them() -> None:
    cache = MemoryCache(max_entries=100, max_bytes=4000)
    for key in "abcd":
        cache.set(key, entry(900))
    assert cache.size_bytes <= 4000
    cache.set("e", entry(900))
    assert cache.get("a") is None
    assert cache.size_bytes <= 4000
    cache.set("e", entry(10))  # replacing an entry gives its bytes back
    assert cache.size_bytes < 4 * 1000
    cache.clear()
    assert cache.size_bytes == 0
    assert len(cache) == 0


def test_an_entry_too_big_for_a_quarter_is_not_stored() -> None:
    cache = MemoryCache(max_entries=100, max_bytes=4000)
    cache.set("small", entry(100))
    cache.set("huge", entry(1500))
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_entries_expire() -> None:
    now = [1000.0]
    cache = MemoryCache(ttl_seconds=10, clock=lambda: now[0])
    cache.set("a", entry(1))
    now[0] += 9.9
    assert cache.get("a") is not None
    now[0] += 0.2
    assert cache.get("a") is None
    assert cache.size_bytes == 0


@pytest.mark.parametrize("gz", [None, b"", b"\x1f\x8b" + b"z" * 50])
@pytest.mark.parametrize("br", [None, b"", b"\x8b" + b"y" * 30])
def test_pack_round_trip(gz: bytes | None, br: bytes | None) -> None:
    value = CachedResponse(body=b'{"comments":[]}', etag='"abc"', gzip=gz, br=br)
    assert CachedResponse.unpack(value.pack()) == value


def test_unpack_refuses_the_format_before_brotli() -> None:
    """An entry a Parley before Brotli left in Redis is a miss (rebuilt), not a wrong answer."""
    old = struct.pack("!BHII", 1, 5, 2, 3) + b'"abc"' + b"{}" + b"gzz"
    with pytest.raises(ValueError, match="entry"):
        CachedResponse.unpack(old)


@pytest.mark.parametrize("junk", [b"", b"\x01", b"not a cache entry at all", b"\x00\x00\x05" + b"\x00" * 20])
def test_unpack_refuses_junk(junk: bytes) -> None:
    with pytest.raises(ValueError, match="entry"):
        CachedResponse.unpack(junk)


def test_size_counts_every_representation() -> None:
    value = CachedResponse(body=b"x" * 10, etag='"abc"', gzip=b"g" * 4, br=b"b" * 3)
    assert value.size == 10 + 4 + 3 + 5
    assert value.encoded("br") == b"bbb"
    assert value.encoded("gzip") == b"gggg"
    assert value.encoded(None) is None
