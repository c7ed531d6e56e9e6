"""The proxy's decisions around its cache, with a stand-in fetcher: what is fetched,
what is shared between sessions and sites, and what never is."""

from __future__ import annotations

import pytest

from cobrowse.core.resource_hosts import HostPattern, ResourcePolicy
from cobrowse.proxy.cache import MemoryResourceCache
from cobrowse.proxy.fetch import Fetched, ResourceRefused
from cobrowse.proxy.service import ResourceProxy

SHOP = "https://shop.example.com"
CDN = "https://cdn.example.com"


class StandInFetcher:
    """Answers every URL with a small image; redirects[url] makes it a redirect."""

    def __init__(self, redirects: dict[str, str] | None = None) -> None:
        self.fetched: list[tuple[str, bool]] = []
        self._redirects = redirects or {}

    async def fetch(self, url: str, policy: ResourcePolicy) -> Fetched:
        self.fetched.append((url, policy.allow_private_addresses))
        hops = (url, self._redirects[url]) if url in self._redirects else (url,)
        return Fetched(hops, "image/png", None, b"\x89PNG", "max-age=600")

    async def close(self) -> None:
        return None


def policy(*hosts: str, private: bool = False) -> ResourcePolicy:
    return ResourcePolicy(
        frozenset({SHOP}), tuple(HostPattern.parse(host) for host in hosts), private
    )


def proxy_for(fetcher: StandInFetcher, policies: dict[str, ResourcePolicy]) -> ResourceProxy:
    async def lookup(site: str) -> ResourcePolicy | None:
        return policies.get(site)

    return ResourceProxy(lookup, fetcher, MemoryResourceCache(1 << 20), 300.0)


async def test_sessions_and_sites_share_what_was_fetched() -> None:
    fetcher = StandInFetcher()
    proxy = proxy_for(fetcher, {"shop": policy(), "outlet": policy()})
    first = await proxy.load("shop", f"{SHOP}/a.png")
    again = await proxy.load("outlet", f"{SHOP}/a.png")
    assert again.resource == first.resource
    assert fetcher.fetched == [(f"{SHOP}/a.png", False)]


async def test_what_the_unsafe_switch_let_through_is_never_served_to_other_sites() -> None:
    fetcher = StandInFetcher()
    proxy = proxy_for(fetcher, {"demo": policy(private=True), "shop": policy()})
    await proxy.load("demo", f"{SHOP}/a.png")
    await proxy.load("shop", f"{SHOP}/a.png")
    assert fetcher.fetched == [(f"{SHOP}/a.png", True), (f"{SHOP}/a.png", False)]


async def test_a_cached_redirect_to_a_host_this_site_does_not_allow_is_fetched_anew() -> None:
    fetcher = StandInFetcher(redirects={f"{SHOP}/logo.png": f"{CDN}/logo.png"})
    proxy = proxy_for(fetcher, {"with-cdn": policy("cdn.example.com"), "shop": policy()})
    await proxy.load("with-cdn", f"{SHOP}/logo.png")
    await proxy.load("shop", f"{SHOP}/logo.png")
    assert len(fetcher.fetched) == 2, "the cached copy came from a host shop does not allow"


async def test_a_host_the_site_does_not_allow_is_refused_before_any_fetch() -> None:
    fetcher = StandInFetcher()
    proxy = proxy_for(fetcher, {"shop": policy()})
    with pytest.raises(ResourceRefused) as refused:
        await proxy.load("shop", f"{CDN}/a.png")
    assert refused.value.status == 403
    assert fetcher.fetched == []


async def test_a_site_removed_meanwhile_gets_nothing() -> None:
    proxy = proxy_for(StandInFetcher(), {})
    with pytest.raises(ResourceRefused, match="no longer registered"):
        await proxy.load("gone", f"{SHOP}/a.png")


async def test_freshness_comes_from_the_website() -> None:
    proxy = proxy_for(StandInFetcher(), {"shop": policy()})
    loaded = await proxy.load("shop", f"{SHOP}/a.png")
    assert loaded.resource.expires_at - proxy.now() == pytest.approx(600, abs=5)
