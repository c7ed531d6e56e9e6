"""The resource proxy connects only to public unicast addresses (PRODUCT.md §8)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from cobrowse.core.public_addresses import why_not_public


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata endpoint
        ("100.64.0.1", "shared address space (carrier-grade NAT)"),
        ("100.127.255.255", "shared address space (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified ('this network')"),  # noqa: S104 (an address under test)
        ("0.1.2.3", "unspecified ('this network')"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.8", "reserved for IETF protocols"),
        ("192.0.2.10", "reserved for documentation"),
        ("198.51.100.7", "reserved for documentation"),
        ("203.0.113.9", "reserved for documentation"),
        ("198.18.0.1", "reserved for benchmarking"),
        ("192.88.99.1", "reserved (former 6to4 relays)"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "unique local (private)"),
        ("fd12:3456:789a::1", "unique local (private)"),
        ("fec0::1", "site-local (deprecated)"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("2001:db8::1", "reserved for documentation"),
        ("2001::1", "reserved for IETF protocols"),  # Teredo
        ("100::1", "discard-only"),
        ("::7f00:1", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::1", "local-use NAT64"),
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    assert why_not_public(address) == reason


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("::ffff:10.0.0.1", "private (IPv4 10.0.0.1 inside IPv6)"),
        ("::ffff:169.254.169.254", "link-local (IPv4 169.254.169.254 inside IPv6)"),
        ("64:ff9b::7f00:1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("64:ff9b::a9fe:a9fe", "link-local (IPv4 169.254.169.254 inside IPv6)"),
        ("2002:7f00:1::1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("2002:c0a8:101::1", "private (IPv4 192.168.1.1 inside IPv6)"),
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address: str, inner: str) -> None:
    assert why_not_public(address) == inner


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",  # just below the carrier-grade NAT range
        "100.128.0.0",  # just above it
        "172.15.255.255",
        "172.32.0.0",
        "2606:4700:4700::1111",
        "2a00:1450:4001:82f::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_unicast_addresses_pass(address: str) -> None:
    assert why_not_public(address) is None


def test_address_objects_are_accepted_too() -> None:
    assert why_not_public(ip_address("127.0.0.1")) == "loopback"
    assert why_not_public(ip_address("8.8.4.4")) is None
