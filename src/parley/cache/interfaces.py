"""The cache seam: what a cached response is and what a cache must do with it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """One JSON response, stored once per thread version.

    ``gzip`` is the same body compressed (None for small bodies, which are sent as they are), so a
    hot thread is compressed once per change instead of once per reader. ``etag`` is the strong
    validator of the identity body; the gzip representation's is derived from it (RFC 9110 8.8.3:
    a different encoding is a different representation).
    """

    body: bytes
    etag: str
    gzip: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip or b"") + len(self.etag)

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'

    def pack(self) -> bytes:
        """Bytes for a shared store: three length-prefixed fields."""
        etag = self.etag.encode("ascii")
        gz = self.gzip if self.gzip is not None else b""
        flag = 1 if self.gzip is not None else 0
        return struct.pack("!BHII", flag, len(etag), len(self.body), len(gz)) + etag + self.body + gz

    @classmethod
    def unpack(cls, data: bytes) -> CachedResponse:
        """The inverse of :meth:`pack`; ``ValueError`` on anything else."""
        head = struct.calcsize("!BHII")
        if len(data) < head:
            raise ValueError("truncated cache entry")
        flag, n_etag, n_body, n_gz = struct.unpack_from("!BHII", data)
        if len(data) != head + n_etag + n_body + n_gz:
            raise ValueError("malformed cache entry")
        etag = data[head : head + n_etag].decode("ascii")
        body = data[head + n_etag : head + n_etag + n_body]
        gz = data[head + n_etag + n_body :] if flag else None
        return cls(body=body, etag=etag, gzip=gz)


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
