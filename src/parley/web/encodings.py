"""Content codings: which one a client gets (``Accept-Encoding``), and how each is made.

Parley sends Brotli (``br``) or gzip. Brotli makes thread JSON smaller than gzip at comparable CPU
(quality 5 against gzip's level 6: 4 % smaller on a page, more on long threads; docs/performance.md
"Brotli and gzip on Parley's JSON", decision 0010), and browsers ask for it over HTTPS; gzip stays
for everything else (plain HTTP, older clients, many CDNs' origin fetches). Every representation
has its own strong ETag: the identity one's with ``-gz`` or ``-br`` before the closing quote
(RFC 9110 8.8.3: a different encoding is a different representation).

Used by the response cache (:mod:`parley.cache.http`, which stores each coding once per thread
version), the compression middleware (:mod:`parley.web.compression`) and the widget's bundle.
"""

from __future__ import annotations

import gzip
import zlib
from functools import lru_cache
from typing import Literal

import brotli

Coding = Literal["br", "gzip"]
CODINGS: tuple[Coding, ...] = ("br", "gzip")  # the server's order of preference on equal q
GZIP_LEVEL = 6  # zlib's default: level 9 costs twice the CPU for ~1% smaller thread JSON
BROTLI_QUALITY = 5  # about gzip 6's CPU on thread JSON; 4 is faster and no smaller than gzip
BROTLI_STREAM_QUALITY = 4  # a body compressed as it streams (exports): the cheaper setting
SUFFIX: dict[Coding, str] = {"br": "-br", "gzip": "-gz"}


def offered(brotli: bool) -> tuple[Coding, ...]:
    """The codings Parley offers, in its order of preference (``settings.compress_brotli``)."""
    return CODINGS if brotli else ("gzip",)


def qualities(accept_encoding: str) -> dict[str, float]:
    """``Accept-Encoding`` as ``{coding: q}`` (lower-case; ``x-gzip`` counts as ``gzip``). A
    malformed ``q`` counts as 0, as a client that sends one cannot be said to accept the coding."""
    found: dict[str, float] = {}
    for part in accept_encoding.split(","):
        token, *params = part.split(";")
        coding = token.strip().lower()
        if not coding:
            continue
        if coding == "x-gzip":
            coding = "gzip"
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # also NaN
                    q = 0.0
        found.setdefault(coding, q)  # the first mention counts, as for repeated headers
    return found


def negotiate(accept_encoding: str | None, offered: tuple[Coding, ...] = CODINGS) -> Coding | None:
    """The coding to send among ``offered`` (in the server's order of preference): the one the
    client rates highest, the earlier on a tie; ``*`` stands for every coding not named. None: send
    the identity body."""
    if not accept_encoding:
        return None
    if len(accept_encoding) <= _REMEMBERED_LENGTH:
        return _remembered(accept_encoding, offered)
    return _choose(accept_encoding, offered)


_REMEMBERED_LENGTH = 200  # browsers send ~30 characters; longer headers are not kept


def _choose(accept_encoding: str, offered: tuple[Coding, ...]) -> Coding | None:
    rated = qualities(accept_encoding)
    wildcard = rated.get("*", 0.0)
    best: Coding | None = None
    best_q = 0.0
    for coding in offered:
        q = rated.get(coding, wildcard)
        if q > best_q:
            best, best_q = coding, q
    return best


# clients send a handful of distinct headers, and this runs on every cache hit
_remembered = lru_cache(maxsize=256)(_choose)


def encode(body: bytes, coding: Coding, *, quality: int | None = None) -> bytes:
    """``body`` in ``coding``, whole (gzip without a timestamp, so equal bodies give equal bytes)."""
    if coding == "br":
        level = BROTLI_QUALITY if quality is None else quality
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=level))
    return gzip.compress(body, GZIP_LEVEL if quality is None else quality, mtime=0)


def tagged(etag: str, coding: Coding | None) -> str:
    """The strong ETag of ``coding``'s representation of the body whose identity tag is ``etag``."""
    if coding is None or not etag.endswith('"') or etag.startswith("W/"):
        return etag
    return etag[:-1] + SUFFIX[coding] + '"'


class StreamEncoder:
    """Compresses a body chunk by chunk as it streams out (never held whole)."""

    def __init__(self, coding: Coding) -> None:
        self._br: brotli.Compressor | None = None
        self._gz: zlib._Compress | None = None
        if coding == "br":
            self._br = brotli.Compressor(mode=brotli.MODE_TEXT, quality=BROTLI_STREAM_QUALITY)
        else:
            self._gz = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def chunk(self, data: bytes, *, last: bool) -> bytes:
        if self._br is not None:
            out = self._br.process(data) if data else b""
            return out + self._br.finish() if last else out
        assert self._gz is not None
        out = self._gz.compress(data)
        return out + self._gz.flush() if last else out
