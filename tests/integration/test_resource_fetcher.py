"""The fetcher against a real website server, with a stand-in for the internet:
``cdn.public.test`` resolves to a public address, and connections to that address
are carried to the local test server. So the address rule is exercised as in
production (the first hop is public, a redirect points at loopback) while nothing
leaves this machine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from ipaddress import ip_address
from urllib.parse import quote

import httpcore
import pytest

from cobrowse.core.public_addresses import IPAddress
from cobrowse.core.resource_hosts import HostPattern, ResourcePolicy
from cobrowse.proxy.fetch import FetchLimits, ResourceFetcher, ResourceRefused
from cobrowse.proxy.network import system_resolve
from tests.resource_origin import PNG, Origin
from tests.support import free_port, plain_server

PUBLIC_NAME = "cdn.public.test"
PUBLIC_ADDRESS = "93.184.215.14"
"""Public by the proxy's rules; never connected to (see LoopbackInternet)."""


class LoopbackInternet(httpcore.AsyncNetworkBackend):
    """Connections to PUBLIC_ADDRESS reach 127.0.0.1 instead; the rest as asked."""

    def __init__(self) -> None:
        self._network = httpcore.AnyIOBackend()
        self.connected_to: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected_to.append(host)
        real = "127.0.0.1" if host == PUBLIC_ADDRESS else host
        return await self._network.connect_tcp(real, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


async def resolve(host: str, port: int) -> list[IPAddress]:
    if host == PUBLIC_NAME:
        return [ip_address(PUBLIC_ADDRESS)]
    return await system_resolve(host, port)


@pytest.fixture(scope="module")
def website() -> Iterator[tuple[Origin, int]]:
    origin = Origin()
    port = free_port()
    server = plain_server(origin.app(), port)
    server.start()
    yield origin, port
    origin.release_slow.set()
    server.stop()


@pytest.fixture
async def fetcher() -> AsyncIterator[tuple[ResourceFetcher, LoopbackInternet]]:
    internet = LoopbackInternet()
    fetcher = ResourceFetcher(FetchLimits(timeout_seconds=5), resolve=resolve, network=internet)
    yield fetcher, internet
    await fetcher.close()


def policy_for(port: int, private: bool = False) -> ResourcePolicy:
    """The public name and localhost are both allowed hosts: only addresses decide."""
    return ResourcePolicy(
        origins=frozenset({f"http://{PUBLIC_NAME}:{port}"}),
        hosts=(HostPattern.parse(f"localhost:{port}"),),
        allow_private_addresses=private,
    )


async def test_the_connection_goes_to_the_vetted_address_with_the_real_host_name(
    website: tuple[Origin, int], fetcher: tuple[ResourceFetcher, LoopbackInternet]
) -> None:
    origin, port = website
    proxy, internet = fetcher
    fetched = await proxy.fetch(f"http://{PUBLIC_NAME}:{port}/img/logo.png", policy_for(port))
    assert fetched.body == PNG
    assert internet.connected_to == [PUBLIC_ADDRESS]
    assert origin.requests[-1].headers["host"] == f"{PUBLIC_NAME}:{port}"


async def test_a_redirect_from_a_public_host_to_a_private_address_is_refused(
    website: tuple[Origin, int], fetcher: tuple[ResourceFetcher, LoopbackInternet]
) -> None:
    origin, port = website
    proxy, internet = fetcher
    target = f"http://localhost:{port}/img/logo.png"
    logo_hits = origin.hits("/img/logo.png")
    with pytest.raises(ResourceRefused) as refused:
        await proxy.fetch(f"http://{PUBLIC_NAME}:{port}/redirect?to={target}", policy_for(port))
    assert refused.value.status == 403
    assert "cobrowse does not fetch from localhost" in refused.value.text
    assert "loopback" in refused.value.text
    assert internet.connected_to == [PUBLIC_ADDRESS], "localhost was never connected to"
    assert origin.hits("/img/logo.png") == logo_hits


async def test_with_the_unsafe_switch_the_same_redirect_is_followed(
    website: tuple[Origin, int], fetcher: tuple[ResourceFetcher, LoopbackInternet]
) -> None:
    _origin, port = website
    proxy, _internet = fetcher
    target = f"http://localhost:{port}/img/logo.png"
    url = f"http://{PUBLIC_NAME}:{port}/redirect?to={target}"
    fetched = await proxy.fetch(url, policy_for(port, private=True))
    assert fetched.hops == (url, target)
    assert fetched.body == PNG


async def test_five_redirects_are_followed_and_a_sixth_is_refused(
    website: tuple[Origin, int], fetcher: tuple[ResourceFetcher, LoopbackInternet]
) -> None:
    origin, port = website
    proxy, _internet = fetcher

    def redirects(times: int) -> str:
        url = f"http://{PUBLIC_NAME}:{port}/img/logo.png"
        for _ in range(times):
            url = f"http://{PUBLIC_NAME}:{port}/redirect?to={quote(url, safe='')}"
        return url

    assert (await proxy.fetch(redirects(5), policy_for(port))).body == PNG
    redirects_before, logos_before = origin.hits("/redirect"), origin.hits("/img/logo.png")
    with pytest.raises(ResourceRefused) as refused:
        await proxy.fetch(redirects(6), policy_for(port))
    assert (refused.value.status, refused.value.text) == (
        502,
        "The website redirected too many times.",
    )
    assert origin.hits("/redirect") == redirects_before + 6
    assert origin.hits("/img/logo.png") == logos_before
