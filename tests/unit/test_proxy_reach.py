"""Which hosts the customer's script is told the proxy fetches from (proxy.reach)."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

from cobrowse.core.public_addresses import IPAddress
from cobrowse.core.resource_hosts import HostPattern, ResourcePolicy
from cobrowse.proxy.reach import ProxiedHost, ProxyReach

ADDRESSES: dict[str, list[IPAddress]] = {
    "shop.example.com": [ip_address("93.184.216.34")],
    "intranet.corp": [ip_address("10.1.2.3")],
    "split.example.com": [ip_address("93.184.216.35"), ip_address("192.168.1.9")],
    "gone.example.com": [],
}


class Resolver:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return ADDRESSES.get(host, [])


def policy(*origins: str, hosts: tuple[str, ...] = (), private: bool = False) -> ResourcePolicy:
    return ResourcePolicy(
        origins=frozenset(origins),
        hosts=tuple(HostPattern.parse(host) for host in hosts),
        allow_private_addresses=private,
    )


def test_only_origins_on_public_addresses_are_listed_and_hosts_as_patterns() -> None:
    reach = ProxyReach(Resolver())
    site = policy(
        "https://shop.example.com",
        "http://intranet.corp:8080",
        "https://split.example.com",
        "https://gone.example.com",
        "http://127.0.0.1:8001",
        hosts=("cdn.example.net", "https://*.images.example.org:8443", "10.0.0.5"),
    )
    hosts = asyncio.run(reach.proxied_hosts(site))
    assert hosts == [
        ProxiedHost("shop.example.com", "https", 443),
        ProxiedHost("cdn.example.net"),
        ProxiedHost("images.example.org", "https", 8443, wildcard=True),
    ]
    assert hosts[2].to_wire() == {
        "host": "images.example.org",
        "scheme": "https",
        "port": 8443,
        "wildcard": True,
    }


def test_the_private_address_switch_lists_everything() -> None:
    resolver = Resolver()
    site = policy("http://intranet.corp:8080", hosts=("10.0.0.5",), private=True)
    hosts = asyncio.run(ProxyReach(resolver).proxied_hosts(site))
    assert hosts == [ProxiedHost("intranet.corp", "http", 8080), ProxiedHost("10.0.0.5")]
    assert resolver.asked == []


def test_names_are_resolved_once_a_minute() -> None:
    resolver = Resolver()
    now = [0.0]
    reach = ProxyReach(resolver, clock=lambda: now[0])
    site = policy("https://shop.example.com")

    async def twice() -> None:
        await reach.proxied_hosts(site)
        await reach.proxied_hosts(site)
        now[0] = 61.0
        await reach.proxied_hosts(site)

    asyncio.run(twice())
    assert resolver.asked == ["shop.example.com", "shop.example.com"]
