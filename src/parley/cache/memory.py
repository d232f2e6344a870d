"""The in-process response cache: an LRU bounded by entry count, bytes and age."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from parley.cache.interfaces import CachedResponse


class MemoryCache:
    """Least-recently-used entries go first once ``max_entries`` or ``max_bytes`` is passed.

    Thread-safe (the async views run on the loop, but CLI tools and tests may share a registry across
    threads). An entry larger than a quarter of ``max_bytes`` is not stored: one huge thread must not
    push every other thread out. ``ttl_seconds`` bounds how long an entry a version bump made
    unreachable keeps its memory when nothing else pushes it out.
    """

    name = "memory"

    def __init__(
        self,
        *,
        max_entries: int = 2000,
        max_bytes: int = 64 * 1024 * 1024,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, CachedResponse]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: CachedResponse) -> None:
        size = value.size + len(key)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock() + self.ttl_seconds, value)
            self._bytes += size
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                oldest = next(iter(self._entries))
                self._drop(oldest)

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= value.size + len(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        self.clear()
