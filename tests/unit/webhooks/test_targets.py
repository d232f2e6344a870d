"""SSRF rules for webhook targets: only global addresses, unless the admin allowed a network."""

from __future__ import annotations

import pytest

from parley.webhooks.targets import TargetRefused, address_allowed, check_url, resolve_target


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback (the Discourse bypass)
        "::ffff:10.0.0.1",
        "169.254.169.254",  # cloud metadata
        "fe80::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 (an address under test, nothing binds to it)
        "::",
        "224.0.0.1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "fc00::1",
        "198.18.0.1",
        "not-an-ip",
    ],
)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


def test_an_allowed_network_opens_exactly_that_network() -> None:
    allowed = ["10.0.5.0/24", "127.0.0.1/32"]
    assert address_allowed("10.0.5.7", allowed)
    assert address_allowed("::ffff:127.0.0.1", allowed)
    assert not address_allowed("10.0.6.1", allowed)
    assert not address_allowed("127.0.0.2", allowed)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "file:///etc/passwd",
        "http://user:pw@example.org/",
        "http:///nohost",
        "http://[::1",
    ],
)
def test_unusable_urls(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url)


def test_every_resolved_address_must_pass_and_the_checked_one_is_used() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # one bad answer spoils the name

    with pytest.raises(TargetRefused):
        resolve_target("https://hooks.example/x", resolver=mixed)
    target = resolve_target("https://hooks.example:8443/p?q=1", resolver=lambda h, p: ["93.184.216.34"])
    assert target.connect_url == "https://93.184.216.34:8443/p?q=1"
    assert target.host_header == "hooks.example:8443"
    assert target.host == "hooks.example"


def test_numeric_host_spellings_are_resolved_before_the_check() -> None:
    for url in ("http://2130706433/", "http://0x7f.1/", "http://localhost/", "http://[::ffff:7f00:1]/"):
        with pytest.raises(TargetRefused):
            resolve_target(url)
