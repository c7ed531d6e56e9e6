"""The Redis fan-out against a real Redis: routing to the node that holds a party,
taking a party over from another node, and claiming the parties of a dead node."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from cobrowse.live.fanout import ENDED, FRAME, REPLACED, RedisFanout
from tests.cluster import redis_server

TIMEOUT = 5


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


class Node:
    """A fan-out plus what it was asked to deliver."""

    def __init__(self, fanout: RedisFanout) -> None:
        self.fanout = fanout
        self.delivered: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def deliver(self, target: str, kind: str, payload: str) -> None:
        await self.delivered.put((target, kind, payload))

    async def start(self) -> None:
        self._task = asyncio.create_task(self.fanout.run(self.deliver))
        await asyncio.sleep(0.2)  # subscribed

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def next(self) -> tuple[str, str, str]:
        return await asyncio.wait_for(self.delivered.get(), TIMEOUT)


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    prefix = f"cbt{secrets.token_hex(4)}"
    yield prefix
    cleanup = Redis.from_url(redis_url)
    async for key in cleanup.scan_iter(f"{prefix}:*"):
        await cleanup.delete(key)
    await cleanup.aclose()


@pytest.fixture
async def two_nodes(redis_url: str, prefix: str) -> AsyncIterator[tuple[Node, Node]]:
    nodes = (
        Node(RedisFanout(Redis.from_url(redis_url), prefix)),
        Node(RedisFanout(Redis.from_url(redis_url), prefix)),
    )
    for node in nodes:
        await node.start()
    yield nodes
    for node in nodes:
        await node.stop()
        await node.fanout.close()


async def test_a_message_reaches_the_node_holding_the_party(two_nodes: tuple[Node, Node]) -> None:
    node_a, node_b = two_nodes
    await node_b.fanout.attach("a:123456789")
    await node_a.fanout.route("a:123456789", FRAME, '{"v":1,"t":"pointer","x":1,"y":2}')
    assert await node_b.next() == ("a:123456789", FRAME, '{"v":1,"t":"pointer","x":1,"y":2}')
    await node_a.fanout.route("a:123456789", ENDED, 'agent_exit\n{"v":1,"t":"ended"}')
    assert await node_b.next() == ("a:123456789", ENDED, 'agent_exit\n{"v":1,"t":"ended"}')
    assert node_a.delivered.empty()


async def test_a_burst_arrives_complete_and_in_order_across_nodes(
    two_nodes: tuple[Node, Node],
) -> None:
    node_a, node_b = two_nodes
    await node_b.fanout.attach("a:100000001")
    await node_a.fanout.attach("c:100000001")
    frames = [f'{{"v":1,"t":"pointer","x":{index},"y":0,"u":"\u00e9:\\n"}}' for index in range(500)]
    for frame in frames:
        await node_a.fanout.route("a:100000001", FRAME, frame)
        await node_b.fanout.route("c:100000001", FRAME, frame)
    received_b = [await node_b.next() for _ in frames]
    received_a = [await node_a.next() for _ in frames]
    assert [payload for _, _, payload in received_b] == frames
    assert [payload for _, _, payload in received_a] == frames


async def test_a_party_nobody_holds_is_dropped_quietly(two_nodes: tuple[Node, Node]) -> None:
    node_a, node_b = two_nodes
    await node_a.fanout.route("c:987654321", FRAME, "{}")
    await node_a.fanout.drain()
    await node_b.fanout.attach("c:987654321")
    assert await node_b.fanout.detach("c:987654321")
    await node_a.fanout.route("c:987654321", FRAME, "{}")
    await node_a.fanout.drain()
    await asyncio.sleep(0.3)
    assert node_a.delivered.empty()
    assert node_b.delivered.empty()


async def test_taking_a_party_over_tells_its_old_node_to_let_go(
    two_nodes: tuple[Node, Node],
) -> None:
    node_a, node_b = two_nodes
    await node_a.fanout.attach("k:alice")
    await node_b.fanout.attach("k:alice")
    assert await node_a.next() == ("k:alice", REPLACED, "")
    # The old node's late goodbye does not undo the takeover.
    assert not await node_a.fanout.detach("k:alice"), "node b holds it now"
    await node_a.fanout.route("k:alice", FRAME, "still here?")
    assert await node_b.next() == ("k:alice", FRAME, "still here?")


async def test_the_parties_of_a_dead_node_are_claimed_once(
    redis_url: str, prefix: str, two_nodes: tuple[Node, Node]
) -> None:
    node_a, node_b = two_nodes
    dead = RedisFanout(Redis.from_url(redis_url), prefix)  # never ran: no heartbeat
    try:
        await dead.attach("c:111111111")
        await dead.attach("a:111111111")
        await node_a.fanout.attach("c:222222222")
        claims = await asyncio.gather(node_a.fanout.orphans(), node_b.fanout.orphans())
        assert sorted(claims[0] + claims[1]) == ["a:111111111", "c:111111111"]
        assert await node_a.fanout.orphans() == []
        await node_b.fanout.route("c:222222222", FRAME, "alive")
        assert await node_a.next() == ("c:222222222", FRAME, "alive")
    finally:
        await dead.close()
