"""What a view calls before it does the work: :func:`enforce`.

Call it first thing, before anything expensive (a password hash, the moderation pipeline), so a
refused request costs a counter lookup and nothing else. Subjects that are unknown (no account;
no client address, e.g. behind a Unix socket without a trusted proxy) are not counted: the door's
other rules still are.
"""

from __future__ import annotations

import hashlib
import hmac

from parley.errors import RateLimited
from parley.ratelimit.rules import Action, Subject
from parley.web.context import RequestContext

__all__ = ["Action", "enforce", "subject_hash"]


def subject_hash(key: bytes, text: str) -> str:
    """A keyed hash of an e-mail address: counters never hold a raw address (memory, Redis)."""
    data = b"rl:" + text.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]


def enforce(
    ctx: RequestContext,
    action: Action,
    *,
    account: str | int | None = None,
    email: str | None = None,
) -> None:
    """Count this request against every rule of ``action``; raise ``RateLimited`` (429 with
    Retry-After) when one refuses it.

    ``account`` is the acting account's id, or another stable identity of the actor (e.g. the
    hashed address of an anonymous reporter); ``email`` is the address a login tries. The client
    address is the request's (``ctx.ip_hash``: ``X-Forwarded-For`` only from trusted proxies).
    """
    subjects = {
        Subject.ACCOUNT: None if account is None else str(account),
        Subject.EMAIL: subject_hash(ctx.settings.ip_key, email) if email else None,
        Subject.IP: ctx.ip_hash,
    }
    outcome = ctx.registry.limits.check(action, subjects, ctx.now.timestamp())
    if not outcome.allowed:
        raise RateLimited(outcome.retry_after)
