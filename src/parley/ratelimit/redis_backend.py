"""The Redis :class:`~parley.ratelimit.interfaces.RateLimiter`: counts shared by every instance.

One Lua script per hit reads both window counters and increments the current one only when the
hit is admitted, atomically, so two instances racing for the last free slot admit one request.
Counters expire after two windows. The window index comes from the caller's clock (instances
keep time with NTP; a skew of a second moves a border by a second, nothing more).

Fails open: when Redis cannot be reached the request is admitted and a warning logged (without
the key, which holds a hashed address). A broken limiter must not lock every reader out.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from parley.logs import Warner
from parley.ratelimit.interfaces import Outcome, retry_after, window_index
from parley.ratelimit.rules import Rule

log = logging.getLogger("parley.ratelimit")
PREFIX = "parley:rl:"

# KEYS[1] this window's counter, KEYS[2] the previous window's; ARGV limit, elapsed fraction, ttl ms
_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * (1 - tonumber(ARGV[2])) + current + 1 <= tonumber(ARGV[1]) then
  current = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, previous, current}
end
return {0, previous, current}
"""


class RedisRateLimiter:
    def __init__(self, client: redis.Redis[bytes], *, warn_every: float = 60.0) -> None:
        self._client = client
        self._script = client.register_script(_HIT)
        self._warner = Warner(log, "rate limits not applied", warn_every)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0))

    def hit(self, key: str, rule: Rule, now: float) -> Outcome:
        index, fraction = window_index(now, rule)
        base = f"{PREFIX}{{{rule.name}:{key}}}:"  # one hash slot for both windows (Redis Cluster)
        ttl_ms = int(rule.window * 2000) + 1000
        try:
            result: Any = self._script(
                keys=[f"{base}{index}", f"{base}{index - 1}"], args=[rule.limit, repr(fraction), ttl_ms]
            )
        except redis.RedisError as exc:
            self._warner.warn("Redis unavailable", exc)
            return Outcome(True)
        allowed, previous, current = (int(x) for x in result)
        if allowed:
            return Outcome(True)
        return Outcome(False, retry_after(previous, current, fraction, rule))

    def close(self) -> None:
        self._client.close()
