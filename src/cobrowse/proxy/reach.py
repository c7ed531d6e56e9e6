"""Which hosts the resource proxy fetches from, told to the customer's script.

The proxy serves the agent what it can fetch itself: from the site's origins and
allowed hosts, on public addresses (unless the site has the private-address switch
on). An intranet site, or an image on a host nobody allowed, is out of its reach;
the customer's browser can still read some of that (a same-origin image), and the
script sends it inline instead, but only for URLs the proxy cannot fetch: a URL in
the stream costs a few bytes, an inlined image its whole size, for every agent
that joins.

So ``/customer/config`` lists the hosts the proxy fetches from, as patterns the
script compares URLs with (:meth:`ProxiedHost.to_wire`). The site's own origins are
listed only when the proxy could reach them: their names are resolved here (and
remembered for a minute) and dropped when any address is not public.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from cobrowse.core.public_addresses import why_not_public
from cobrowse.core.resource_hosts import DEFAULT_PORTS, HostPattern, ResourcePolicy
from cobrowse.proxy.network import Resolve, system_resolve

RESOLVE_SECONDS = 2.0
"""A name that takes longer to resolve counts as out of reach (the script inlines)."""
REMEMBER_SECONDS = 60.0
_MAX_REMEMBERED = 1024


@dataclass(frozen=True)
class ProxiedHost:
    """A host the proxy fetches from: ``host`` (or any subdomain of it when
    ``wildcard``), with ``scheme`` (None: http and https) and ``port`` (None: the
    scheme's default)."""

    host: str
    scheme: str | None = None
    port: int | None = None
    wildcard: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "scheme": self.scheme,
            "port": self.port,
            "wildcard": self.wildcard,
        }


class ProxyReach:
    """Answers which of a site's hosts the proxy can fetch from."""

    def __init__(
        self,
        resolve: Resolve = system_resolve,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._clock = clock
        self._public: dict[tuple[str, int], tuple[bool, float]] = {}

    async def proxied_hosts(self, policy: ResourcePolicy) -> list[ProxiedHost]:
        """The site's origins the proxy can reach, then its allowed hosts."""
        origins: list[ProxiedHost] = []
        for origin in sorted(policy.origins):
            parts = urlsplit(origin)
            if parts.scheme in DEFAULT_PORTS and parts.hostname:
                port = parts.port or DEFAULT_PORTS[parts.scheme]
                origins.append(ProxiedHost(parts.hostname, parts.scheme, port))
        if policy.allow_private_addresses:
            hosts = origins
        else:
            # At once: a site's few origins cost one resolution time, not their sum.
            public = await asyncio.gather(
                *(self._public_host(origin.host, origin.port or 0) for origin in origins)
            )
            hosts = [origin for origin, reachable in zip(origins, public, strict=True) if reachable]
        for pattern in policy.hosts:
            if policy.allow_private_addresses or not _private_ip(pattern):
                hosts.append(
                    ProxiedHost(pattern.host, pattern.scheme, pattern.port, pattern.wildcard)
                )
        return hosts

    async def _public_host(self, host: str, port: int) -> bool:
        """Whether every address of ``host`` is public (so the proxy connects to it)."""
        try:
            return why_not_public(ip_address(host.strip("[]"))) is None
        except ValueError:
            pass  # a name
        key = (host, port)
        now = self._clock()
        remembered = self._public.get(key)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        try:
            async with asyncio.timeout(RESOLVE_SECONDS):
                addresses = await self._resolve(host, port)
        except TimeoutError:
            addresses = []
        public = bool(addresses) and all(why_not_public(address) is None for address in addresses)
        if len(self._public) >= _MAX_REMEMBERED:
            self._public.clear()
        self._public[key] = (public, now + REMEMBER_SECONDS)
        return public


def _private_ip(pattern: HostPattern) -> bool:
    try:
        return why_not_public(ip_address(pattern.host)) is not None
    except ValueError:
        return False
