"""The cache seam: what a cached response is and what a cache must do with it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """One JSON response, stored once per thread version.

    ``gzip`` and ``br`` are the same body compressed (None for small bodies, which are sent as they
    are), so a hot thread is compressed once per change instead of once per reader. ``etag`` is the
    strong validator of the identity body; each coding's is derived from it
    (:func:`parley.web.encodings.tagged`: a different encoding is a different representation).
    """

    body: bytes
    etag: str
    gzip: bytes | None = None
    br: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip or b"") + len(self.br or b"") + len(self.etag)

    def encoded(self, coding: str | None) -> bytes | None:
        """The body in ``coding`` ("br", "gzip"), if stored; None for the identity body."""
        if coding == "br":
            return self.br
        if coding == "gzip":
            return self.gzip
        return None

    def pack(self) -> bytes:
        """Bytes for a shared store: a format byte, then four length-prefixed fields (an absent
        coding has length 0 and its flag bit clear)."""
        etag = self.etag.encode("ascii")
        gz = self.gzip if self.gzip is not None else b""
        br = self.br if self.br is not None else b""
        flags = _FORMAT | (_GZIP if self.gzip is not None else 0) | (_BR if self.br is not None else 0)
        head = struct.pack(_HEAD, flags, len(etag), len(self.body), len(gz), len(br))
        return head + etag + self.body + gz + br

    @classmethod
    def unpack(cls, data: bytes) -> CachedResponse:
        """The inverse of :meth:`pack`; ``ValueError`` on anything else (an entry of an older
        format included: the caller rebuilds it)."""
        size = struct.calcsize(_HEAD)
        if len(data) < size:
            raise ValueError("truncated cache entry")
        flags, n_etag, n_body, n_gz, n_br = struct.unpack_from(_HEAD, data)
        if flags & _FORMAT_MASK != _FORMAT or len(data) != size + n_etag + n_body + n_gz + n_br:
            raise ValueError("malformed cache entry")
        at = size + n_etag
        etag = data[size:at].decode("ascii")
        body = data[at : at + n_body]
        at += n_body
        gz = data[at : at + n_gz] if flags & _GZIP else None
        at += n_gz
        br = data[at : at + n_br] if flags & _BR else None
        return cls(body=body, etag=etag, gzip=gz, br=br)


_HEAD = "!BHIII"  # flags, then the lengths of the ETag, the body, the gzip and the Brotli bytes
_GZIP = 0x01
_BR = 0x02
_FORMAT_MASK = 0xF0
_FORMAT = 0x20  # format 2 (format 1, before Brotli, had no format bits and a 13-byte head)


class ResponseCache(Protocol):
    """A key/value store of responses. Implementations fail open: a broken store is a miss."""

    name: str

    def get(self, key: str) -> CachedResponse | None: ...

    def set(self, key: str, value: CachedResponse) -> None: ...

    def clear(self) -> None: ...

    def ping(self) -> bool:
        """Whether the store answers (readiness)."""
        ...

    def close(self) -> None: ...


class NullCache:
    """Stores nothing (``cache_enabled = false``): every read is built from the database."""

    name = "null"

    def get(self, key: str) -> CachedResponse | None:
        return None

    def set(self, key: str, value: CachedResponse) -> None:
        return None

    def clear(self) -> None:
        return None

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        return None
