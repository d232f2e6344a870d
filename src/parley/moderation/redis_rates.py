"""The Redis :class:`~parley.moderation.backends.RateStore`: flood and rate events seen by every instance.

One sorted set per key (``parley:mr:<key>``), scored by the event's Unix time; a member is the time
and a random suffix, so two events in the same instant count twice. :meth:`record` adds the event,
drops events older than ``max_age`` and renews the key's expiry in one ``MULTI``; :meth:`recent` is
one ``ZRANGEBYSCORE``.

Failure modes follow the rate phase (fails open): :meth:`recent` raises, so the pipeline records the
phase as failed and lets the comment through with that evidence; :meth:`record` runs after the
comment is stored and only logs (at most once a minute, without the key: it holds a hashed address
or an account), because a comment must not be refused for a counter that could not be written.

Like the in-memory store, checking and recording are two steps: two instances racing may both admit
the comment that reaches a limit, as two threads of one instance may. The limit is a flood guard,
not an invariant.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

import redis

from parley.logs import Warner

log = logging.getLogger("parley.moderation")
PREFIX = "parley:mr:"
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "\\*?[]^"})


class RedisRateStore:
    def __init__(
        self, client: redis.Redis[bytes], *, prefix: str = PREFIX, max_age: float = 2 * 86400
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._max_age = max_age
        self._warner = Warner(log, "moderation rate event not stored")

    @classmethod
    def from_url(cls, url: str, *, prefix: str = PREFIX, max_age: float = 2 * 86400) -> RedisRateStore:
        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, prefix=prefix, max_age=max_age)

    def recent(self, key: str, since: float) -> list[float]:
        pairs = self._client.zrangebyscore(self._prefix + key, since, "+inf", withscores=True)
        return [float(score) for _, score in pairs]

    def count_each(self, windows: Sequence[tuple[str, float]]) -> list[int]:
        if not windows:
            return []
        pipe = self._client.pipeline(transaction=False)  # one round trip for all of them
        for key, since in windows:
            pipe.zcount(self._prefix + key, since, "+inf")
        return [int(n) for n in pipe.execute()]

    def record_each(self, keys: Sequence[str], ts: float) -> None:
        pipe = self._client.pipeline(transaction=True)  # one round trip for all of them
        for key in keys:
            name = self._prefix + key
            pipe.zadd(name, {f"{ts!r}:{secrets.token_hex(6)}": ts})
            pipe.zremrangebyscore(name, "-inf", f"({ts - self._max_age!r}")
            pipe.expire(name, int(self._max_age) + 60)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            self._warner.warn("Redis unavailable", exc)

    def forget(self, author: str) -> None:
        """Drop every key of this author: ``<author>``, ``<author>:…`` and ``<site>:<author>``
        (the rate phase counts under ``<site slug>:<author key>``)."""
        glob = self._prefix + author.translate(_GLOB_SPECIAL)
        names: set[bytes] = set()
        for pattern in (glob, glob + ":*", self._prefix + "*:" + author.translate(_GLOB_SPECIAL)):
            names.update(self._client.scan_iter(match=pattern, count=1000))
        if names:  # globs are anchored: "*:acct:1" does not match "s:acct:10"
            self._client.delete(*sorted(names))

    def close(self) -> None:
        self._client.close()
