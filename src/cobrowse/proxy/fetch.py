"""Fetching one resource for a site: allowed hosts only, public addresses only,
bounded in size and time, anonymous.

Every request is the proxy's own: a fixed User-Agent naming cobrowse, no cookies
(the client keeps none), no credentials, no Referer. Redirects are followed here,
not by httpx, so each hop is checked against the site's allowed hosts before it is
fetched; the address rule is checked by the network backend as each connection is
opened (proxy.network).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from importlib.metadata import version
from urllib.parse import urldefrag

import httpcore
import httpx

from cobrowse.core.resource_hosts import ResourcePolicy
from cobrowse.core.resource_urls import absolute_resource_url
from cobrowse.proxy.media import charset, media_type, servable_type, sniff
from cobrowse.proxy.network import (
    AddressRefused,
    Resolve,
    VettedTransport,
    VettingNetworkBackend,
    system_resolve,
)

USER_AGENT = f"cobrowse-resource-proxy/{version('cobrowse')} (co-browsing mirror)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 10 * 1024 * 1024
    """Larger resources are refused; the body is streamed and dropped at this size."""
    timeout_seconds: float = 10.0
    """For the whole fetch: every redirect, connection and byte of the body."""
    max_redirects: int = 5


class ResourceRefused(Exception):
    """The proxy will not serve the resource. ``status`` for the agent's browser:
    403 when cobrowse's rules refuse it, 502 when the website failed, 504 when it
    was too slow; ``text`` says why in a sentence (never page content)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Fetched:
    hops: tuple[str, ...]
    """The URL asked for, then each redirect's target; the last one answered."""
    media_type: str
    """The vetted type to serve it as."""
    charset: str | None
    body: bytes
    cache_control: str | None


class ResourceFetcher:
    """Two connection pools: one that refuses non-public addresses, and one, for
    sites with the UNSAFE ``allow_private_addresses`` switch, that does not. They are
    kept apart so that a connection opened for such a site is never reused for
    another."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        resolve: Resolve = system_resolve,
        network: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self._public_only = self._client(VettingNetworkBackend(True, resolve, network), ssl_context)
        self._any_address = self._client(
            VettingNetworkBackend(False, resolve, network), ssl_context
        )

    def _client(
        self, backend: VettingNetworkBackend, ssl_context: ssl.SSLContext | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=VettedTransport(backend, ssl_context),
            # Not the environment's proxies or .netrc credentials: only what is here.
            trust_env=False,
            follow_redirects=False,
            # A jar that takes no cookie, so no Set-Cookie is ever sent back.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": USER_AGENT, "Accept": "text/css,image/*,font/*;q=0.9,*/*;q=0.1"},
            timeout=httpx.Timeout(self.limits.timeout_seconds),
        )

    async def fetch(self, url: str, policy: ResourcePolicy) -> Fetched:
        """Fetch ``url`` (already allowed by ``policy``) and whatever it redirects to.
        Raises ResourceRefused."""
        client = self._any_address if policy.allow_private_addresses else self._public_only
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                return await self._follow(client, url, policy)
        except TimeoutError:
            raise ResourceRefused(504, "The website took too long to answer.") from None
        except httpx.TimeoutException:
            raise ResourceRefused(504, "The website took too long to answer.") from None
        except AddressRefused as refused:
            raise ResourceRefused(
                403,
                f"cobrowse does not fetch from {refused.host}: it {refused.reason}, and "
                "this site does not allow private addresses.",
            ) from None
        except httpx.HTTPError:
            raise ResourceRefused(502, "The website could not be reached.") from None

    async def _follow(self, client: httpx.AsyncClient, url: str, policy: ResourcePolicy) -> Fetched:
        hops = [url]
        while True:
            async with client.stream("GET", hops[-1]) as response:
                if response.status_code not in _REDIRECTS:
                    return await self._take(response, tuple(hops))
                location = response.headers.get("location")
            if len(hops) > self.limits.max_redirects:
                raise ResourceRefused(502, "The website redirected too many times.")
            target = absolute_resource_url(location or "", hops[-1])
            if target is None:
                raise ResourceRefused(502, "The website redirected to something not on the web.")
            target = urldefrag(target).url
            if not policy.allows(target):
                raise ResourceRefused(
                    403, "The website redirected to a host this site does not allow."
                )
            hops.append(target)

    async def _take(self, response: httpx.Response, hops: tuple[str, ...]) -> Fetched:
        if response.status_code != 200:
            raise ResourceRefused(502, f"The website answered {response.status_code}.")
        content_type = response.headers.get("content-type")
        declared = media_type(content_type)
        served = servable_type(declared)
        if served is None:
            raise ResourceRefused(
                403, f"cobrowse does not serve {declared[:100] or 'this type'} to the agent."
            )
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_bytes:
            raise ResourceRefused(403, self._too_large())
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.limits.max_bytes:
                raise ResourceRefused(403, self._too_large())
        if not served:
            served = sniff(bytes(body[:64])) or ""
            if not served:
                raise ResourceRefused(403, "cobrowse serves only stylesheets, images and fonts.")
        return Fetched(
            hops=hops,
            media_type=served,
            charset=charset(content_type),
            body=bytes(body),
            cache_control=response.headers.get("cache-control"),
        )

    def _too_large(self) -> str:
        return f"The resource is larger than the limit of {self.limits.max_bytes} bytes."

    async def close(self) -> None:
        await self._public_only.aclose()
        await self._any_address.aclose()
