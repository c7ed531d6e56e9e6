"""The resource proxy as the endpoint uses it: a site's rules, the cache, the fetcher."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis

from cobrowse.config import Settings
from cobrowse.core.resource_hosts import ResourcePolicy
from cobrowse.proxy.cache import (
    CachedResource,
    MemoryResourceCache,
    RedisResourceCache,
    ResourceCache,
)
from cobrowse.proxy.css import stylesheet_template
from cobrowse.proxy.fetch import Fetched, FetchLimits, ResourceFetcher, ResourceRefused
from cobrowse.proxy.media import CSS, fresh_for

log = logging.getLogger(__name__)

POLICY_SECONDS = 5.0
"""How long a site's resource rules are reused before they are read again: a page
asks for dozens of resources at once, and a change reaches every node this soon."""

PolicySource = Callable[[str], Awaitable[ResourcePolicy | None]]


class Fetcher(Protocol):
    """What the proxy fetches with: ResourceFetcher, or a stand-in in tests."""

    async def fetch(self, url: str, policy: ResourcePolicy) -> Fetched: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Loaded:
    resource: CachedResource
    policy: ResourcePolicy
    """The requesting site's rules, which also decide its stylesheet's links."""


class ResourceProxy:
    def __init__(
        self,
        policies: PolicySource,
        fetcher: Fetcher,
        cache: ResourceCache,
        default_cache_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policies = policies
        self.fetcher = fetcher
        self.cache = cache
        self._default_cache_seconds = default_cache_seconds
        self._clock = clock
        self._known: dict[str, tuple[float, ResourcePolicy | None]] = {}
        self._refreshing: dict[str, asyncio.Task[ResourcePolicy | None]] = {}

    async def load(self, site: str, url: str) -> Loaded:
        """The resource at ``url`` for a session of ``site``; ResourceRefused when
        the site's rules or the proxy's limits refuse it, or the website fails."""
        try:
            return await self._load(site, url)
        except ResourceRefused as refused:
            # The host tells an administrator which --resource-host is missing; the
            # rest of the URL may be page content and stays out of the logs.
            log.info(
                "resource refused",
                extra={
                    "site": site,
                    "host": urlsplit(url).hostname,
                    "status": refused.status,
                    "reason": refused.text,
                },
            )
            raise

    async def _load(self, site: str, url: str) -> Loaded:
        policy = await self.policy(site)
        if policy is None:
            raise ResourceRefused(403, "This session's site is no longer registered.")
        if not policy.allows(url):
            raise ResourceRefused(403, "This site does not allow resources from that host.")
        # Entries fetched without the address rule are kept apart from the others:
        # a site without the switch must never get what only the switch let through.
        key = f"{'any' if policy.allow_private_addresses else 'public'} {url}"
        cached = await self.cache.get(key)
        if cached is not None and all(policy.allows(hop) for hop in cached.hops):
            return Loaded(cached, policy)
        fetched = await self.fetcher.fetch(url, policy)
        stylesheet = None
        body = fetched.body
        if fetched.media_type == CSS:
            # tinycss2 is pure Python: a big stylesheet must not stall the event loop.
            try:
                template = await asyncio.to_thread(
                    stylesheet_template, fetched.body, fetched.hops[-1], fetched.charset
                )
            except ValueError:
                raise ResourceRefused(502, "The stylesheet could not be read.") from None
            stylesheet, body = template.pieces, b""
        resource = CachedResource(
            hops=fetched.hops,
            media_type=fetched.media_type,
            body=body,
            stylesheet=stylesheet,
            expires_at=self._clock()
            + fresh_for(fetched.cache_control, self._default_cache_seconds),
        )
        await self.cache.put(key, resource)
        return Loaded(resource, policy)

    async def policy(self, site: str) -> ResourcePolicy | None:
        """The site's rules, at most POLICY_SECONDS old.

        Every stream frame asks, so this must not query per call: a known policy is
        answered at once, and when it is due for a refresh one task reads it again
        while the callers keep the one they have (stale for at most one query).
        Without that, every live session of a site queried the database at the same
        moment each time the entry expired (1,000 queries at once at 1,000 sessions).
        """
        known = self._known.get(site)
        if known is not None and time.monotonic() - known[0] < POLICY_SECONDS:
            return known[1]
        reading = self._refreshing.get(site)
        if reading is None:
            reading = asyncio.create_task(self._read_policy(site))
            self._refreshing[site] = reading
            reading.add_done_callback(lambda done: self._read(site, done))
        if known is not None:
            return known[1]
        return await asyncio.shield(reading)

    async def _read_policy(self, site: str) -> ResourcePolicy | None:
        policy = await self._policies(site)
        self._known[site] = (time.monotonic(), policy)
        return policy

    def _read(self, site: str, done: asyncio.Task[ResourcePolicy | None]) -> None:
        self._refreshing.pop(site, None)
        if not done.cancelled() and done.exception() is not None:
            # Keep the rules known so far; the next frame tries again.
            log.warning("could not read a site's resource rules", exc_info=done.exception())

    def now(self) -> float:
        """The clock expiries are measured on (wall-clock seconds)."""
        return self._clock()

    async def close(self) -> None:
        await self.fetcher.close()
        await self.cache.close()


def build_resource_proxy(settings: Settings, policies: PolicySource) -> ResourceProxy:
    """The proxy the configuration asks for: its cache in memory on a single node, in
    Redis (shared by the nodes) in cluster mode."""
    cache: ResourceCache
    if settings.redis_url is None or settings.resource_cache_bytes == 0:
        cache = MemoryResourceCache(settings.resource_cache_bytes)
    else:
        cache = RedisResourceCache(
            Redis.from_url(settings.redis_url), settings.redis_prefix, settings.resource_max_bytes
        )
    limits = FetchLimits(
        max_bytes=settings.resource_max_bytes, timeout_seconds=settings.resource_timeout_seconds
    )
    return ResourceProxy(policies, ResourceFetcher(limits), cache, settings.resource_cache_seconds)
