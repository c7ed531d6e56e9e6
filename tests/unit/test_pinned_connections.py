"""DNS rebinding: the proxy connects to exactly the addresses it checked.

The network backend resolves a host once, refuses it when any address is not
public, and hands those same addresses to the connection; the test network here
records what it is asked to connect to, so nothing leaves this machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address

import httpcore
import pytest

from cobrowse.core.public_addresses import IPAddress
from cobrowse.proxy.network import AddressRefused, VettingNetworkBackend


class RecordingNetwork(httpcore.AsyncNetworkBackend):
    """Connections that go nowhere: it notes each address it was asked for."""

    def __init__(self, failing: Iterable[str] = ()) -> None:
        self.asked: list[tuple[str, int]] = []
        self._failing = set(failing)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append((host, port))
        if host in self._failing:
            raise httpcore.ConnectError(f"{host} does not answer")
        return httpcore.AsyncNetworkStream()

    async def sleep(self, seconds: float) -> None:
        return None


class RebindingDns:
    """Answers each question about a name with the next of its answers, the way a
    hostile DNS server does: public for the check, loopback afterwards."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers = list(answers)
        self.questions = 0

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.questions += 1
        return [ip_address(address) for address in self._answers.pop(0)]


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    dns = RebindingDns(["93.184.215.14"], ["127.0.0.1"])
    network = RecordingNetwork()
    backend = VettingNetworkBackend(resolve=dns, network=network)
    await backend.connect_tcp("cdn.rebind.test", 443)
    assert network.asked == [("93.184.215.14", 443)]
    assert dns.questions == 1, "the name was resolved once, for the check and the connection"


async def test_a_name_with_any_private_address_is_refused_before_connecting() -> None:
    dns = RebindingDns(["93.184.215.14", "10.0.0.5"])
    network = RecordingNetwork()
    backend = VettingNetworkBackend(resolve=dns, network=network)
    with pytest.raises(AddressRefused, match=r"resolves to 10\.0\.0\.5 \(private\)"):
        await backend.connect_tcp("mixed.test", 80)
    assert network.asked == []


async def test_a_name_without_addresses_cannot_be_connected_to() -> None:
    backend = VettingNetworkBackend(resolve=RebindingDns([]), network=RecordingNetwork())
    with pytest.raises(httpcore.ConnectError, match="has no address"):
        await backend.connect_tcp("nowhere.test", 80)


async def test_the_next_vetted_address_is_tried_when_one_does_not_answer() -> None:
    dns = RebindingDns(["2606:4700::6810:85e5", "93.184.215.14"])
    network = RecordingNetwork(failing=["2606:4700::6810:85e5"])
    await VettingNetworkBackend(resolve=dns, network=network).connect_tcp("cdn.test", 443)
    assert network.asked == [("2606:4700::6810:85e5", 443), ("93.184.215.14", 443)]


async def test_without_the_address_rule_the_connection_is_still_pinned() -> None:
    dns = RebindingDns(["127.0.0.1"], ["10.9.9.9"])
    network = RecordingNetwork()
    backend = VettingNetworkBackend(check_addresses=False, resolve=dns, network=network)
    await backend.connect_tcp("localhost", 8001)
    assert network.asked == [("127.0.0.1", 8001)]
    assert dns.questions == 1


async def test_local_sockets_are_never_opened() -> None:
    backend = VettingNetworkBackend(check_addresses=False, network=RecordingNetwork())
    with pytest.raises(AddressRefused):
        await backend.connect_unix_socket("/var/run/docker.sock")
