"""Small security primitives: random tokens, token hashing, HMAC signing, client IP handling.

Raw IP addresses are never stored or logged: :func:`hash_ip` keys them with a secret, and
:func:`client_ip` only believes ``X-Forwarded-For`` from configured trusted proxies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from functools import lru_cache


def new_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def hash_token(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is the right lookup key (no salt needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign(secret: bytes, purpose: str, payload: bytes) -> str:
    mac = hmac.new(secret, purpose.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify(secret: bytes, purpose: str, payload: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, purpose, payload), signature)


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


def hash_ip(key: bytes, ip: str | None) -> str | None:
    """Keyed hash of the client's network: IPv4 /32, IPv6 /64 (one household or device)."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        else:
            addr = ipaddress.IPv6Network(f"{addr}/64", strict=False).network_address
    return hmac.new(key, addr.packed, hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in trusted)


def _is_trusted(ip: str, trusted: Sequence[str]) -> bool:
    if not trusted:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr in net for net in _networks(tuple(trusted)))


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str | None:
    """The client's address: walk ``X-Forwarded-For`` from the right while hops are trusted proxies.

    A header sent by an untrusted peer is ignored entirely, so a client cannot choose its own IP.
    """
    if peer is None:
        return None
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    current = peer
    for hop in reversed(hops):
        if not _is_trusted(current, trusted):
            break
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        current = hop
    return current
