"""Which IP addresses the resource proxy may connect to (PRODUCT.md §8).

The proxy fetches on behalf of a web page, so without this rule a page could make
cobrowse reach what only cobrowse can reach: its own loopback services, the cloud
metadata endpoint (169.254.169.254), the private network behind it. Only public
unicast addresses pass. The table is explicit rather than left to
``ipaddress.is_global`` alone, whose answers have changed between Python releases;
``is_global`` still has the last word, as a second net.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_REFUSED_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "unspecified ('this network')"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved for IETF protocols"),
        ("192.0.2.0/24", "reserved for documentation"),
        ("192.88.99.0/24", "reserved (former 6to4 relays)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved for benchmarking"),
        ("198.51.100.0/24", "reserved for documentation"),
        ("203.0.113.0/24", "reserved for documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)

_REFUSED_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "reserved for IETF protocols"),
        ("2001:db8::/32", "reserved for documentation"),
        ("3fff::/20", "reserved for documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)

# IPv6 forms that carry an IPv4 address which is what the packets finally reach:
# judge them by that address.
_NAT64 = IPv6Network("64:ff9b::/96")


def why_not_public(address: IPAddress | str) -> str | None:
    """None when ``address`` is a public unicast address; otherwise why it is not."""
    if isinstance(address, str):
        address = ip_address(address)
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = why_not_public(embedded)
            return f"{reason} (IPv4 {embedded} inside IPv6)" if reason else None
        address = IPv6Address(int(address))  # without a %scope, for the table
        for network6, reason in _REFUSED_V6:
            if address in network6:
                return reason
    else:
        for network4, reason in _REFUSED_V4:
            if address in network4:
                return reason
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None
