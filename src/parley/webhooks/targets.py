"""Where a webhook may point: SSRF protection for every server-side request to an admin-given URL.

A target URL is resolved once, every address it resolves to is checked, and the request then
connects to the checked address (not to the name again), so DNS rebinding between check and
connect cannot redirect it. Refused unless the admin listed the network in
``webhook_allowed_networks``: loopback, private, link-local (169.254.169.254, the cloud metadata
address), shared, reserved, multicast and unspecified addresses — everything that is not global —
including the same addresses wrapped as IPv4-mapped (``::ffff:127.0.0.1``), 6to4 or Teredo IPv6.
Redirects are never followed (a 3xx is a failed delivery).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class TargetRefused(Exception):
    """The URL is unusable or points at an address webhooks may not reach. The message is safe to show."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written (Host header, TLS SNI and certificate name)
    port: int
    path: str  # path and query
    address: str  # the checked IP to connect to

    @property
    def connect_url(self) -> str:
        addr = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{addr}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded(addr: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address tunnelled inside it."""
    out: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address):
        for inner in (addr.ipv4_mapped, addr.sixtofour):
            if inner is not None:
                out.append(inner)
        if addr.teredo is not None:
            out.extend(addr.teredo)
    return out


def address_allowed(address: str, allowed: Sequence[str] = ()) -> bool:
    try:
        addr = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    networks: list[Network] = [ipaddress.ip_network(n, strict=False) for n in allowed]
    candidates = _embedded(addr)
    if any(c in net for c in candidates for net in networks if c.version == net.version):
        return True  # the admin allowed this network explicitly
    return all(c.is_global and not c.is_multicast for c in candidates)


def check_url(url: str) -> tuple[str, str, int, str]:
    """Syntax only: ``(scheme, host, port, path)``; raises :class:`TargetRefused`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("The URL cannot be parsed.") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http and https URLs can receive webhooks.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Credentials in the URL are not supported; use the signature instead.")
    host = parts.hostname
    if not host:
        raise TargetRefused("The URL has no host.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def resolve_target(url: str, allowed: Sequence[str] = (), resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` and resolve it to an address webhooks may connect to."""
    scheme, host, port, path = check_url(url)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        raise TargetRefused("The host name does not resolve.") from None
    if not addresses:
        raise TargetRefused("The host name does not resolve.")
    refused = [a for a in addresses if not address_allowed(a, allowed)]
    if refused:
        raise TargetRefused(
            "The host resolves to a non-public address; list its network in webhook_allowed_networks "
            "to allow it."
        )
    return Target(scheme, host, port, path, addresses[0].split("%", 1)[0])
