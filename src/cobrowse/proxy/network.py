"""The proxy's connections: resolved once, vetted, and pinned to the vetted address.

Checking a host name's addresses and then letting the HTTP client resolve it again
leaves a gap: a hostile DNS server can answer with a public address for the check
and 127.0.0.1 for the connection (DNS rebinding). Here the resolution, the check and
the connection are one step inside httpcore's network backend: every connection
the proxy opens, the first one and each redirect's alike, goes to an address that
was checked a moment before, and the URL keeps its host name, so the Host header,
TLS SNI and certificate checks are those of the real host.

:class:`VettedTransport` is an httpx transport over an httpcore connection pool
with that backend (httpx's own transport offers no way to give its pool a network
backend).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from ipaddress import ip_address

import httpcore
import httpx

from cobrowse.core.public_addresses import IPAddress, why_not_public

Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]


class AddressRefused(Exception):
    """A host resolved to an address the proxy must not connect to (or to none)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host} {reason}")
        self.host = host
        self.reason = reason


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host``, as the operating system's resolver gives them."""
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in found:
        address = ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class VettingNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, refuses it when any of its addresses is not public
    (unless ``check_addresses`` is off), then connects to those very addresses."""

    def __init__(
        self,
        check_addresses: bool = True,
        resolve: Resolve = system_resolve,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.check_addresses = check_addresses
        self._resolve = resolve
        self._network = network or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        if self.check_addresses:
            # ANY, not all: a name with one public and one private address would
            # otherwise reach the private one whenever the public one fails.
            for address in addresses:
                reason = why_not_public(address)
                if reason is not None:
                    raise AddressRefused(host, f"resolves to {address} ({reason})")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(path, "is a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class VettedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose every connection goes through a VettingNetworkBackend."""

    def __init__(
        self,
        backend: VettingNetworkBackend,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 32,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections // 2,
            keepalive_expiry=30.0,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors(request):
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self._request):
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    """httpcore's errors as the httpx errors callers expect; AddressRefused as it is."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise httpx.TimeoutException(str(exc), request=request) from exc
    except httpcore.ConnectError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
        raise httpx.TransportError(str(exc), request=request) from exc
