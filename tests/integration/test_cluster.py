"""Cluster mode: two real `cobrowse serve` processes sharing a real Redis.

A customer on node A and an agent on node B co-browse as they would on one node;
the cluster-wide rules hold across nodes; a node that dies or is stopped does not
end the sessions it served.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from cobrowse.core import protocol
from tests.cluster import SITE_ORIGIN, Cluster, Node, cluster
from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_sockets import closed_with, hello, receive, receive_raw

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(
        tmp_path_factory.mktemp("cluster"),
        join_attempts_per_minute="3",
        customer_grace_seconds="20",
    ) as running:
        yield running


_agents = iter(range(1, 1000))


def fresh_agent(nodes: Cluster, node: Node) -> str:
    """A new agent's cookie, signed in through ``node``."""
    return nodes.sign_in(node, nodes.add_agent(f"cluster-agent-{next(_agents)}"))


async def start(customer: ClientConnection) -> tuple[str, str]:
    """Start a session; returns its ID and the tab's resume token."""
    await customer.send('{"v":1,"t":"start"}')
    started = await receive(customer)
    assert started["t"] == "session"
    assert (await receive(customer))["t"] == "restrictions"
    return started["session"]["id"], started["resume"]


async def join(agent: ClientConnection, customer: ClientConnection, session_id: str) -> None:
    await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
    joined = await receive(agent)
    assert joined["t"] == "joined", joined
    assert await receive(customer) == {"v": 1, "t": "agent_joined"}


async def resume(customer: ClientConnection, session_id: str, token: str) -> dict[str, object]:
    await customer.send(json.dumps({"v": 1, "t": "resume", "id": session_id, "token": token}))
    resumed = await receive(customer)
    assert resumed["t"] == "session", resumed
    assert (await receive(customer))["t"] == "restrictions"
    session: dict[str, object] = resumed["session"]
    return session


CROSS_NODE_SECONDS = 20
"""How long a frame may take between nodes here. Generous: what crosses nodes while
one is stopping (its clean-up, then Redis, then the other node) can take seconds on
a loaded 2-core machine; a frame that never arrives still fails the test."""


async def receive_until(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of ``kind``, skipping others (snapshot requests and the like)."""
    async with asyncio.timeout(CROSS_NODE_SECONDS):
        while True:
            frame = await socket.recv()
            assert isinstance(frame, str), "the server sends text frames"
            parsed: dict[str, Any] = json.loads(frame)
            if parsed["t"] == kind:
                return parsed


async def test_customer_on_one_node_and_agent_on_another_co_browse(nodes: Cluster) -> None:
    node_a, node_b = nodes.nodes
    cookie = fresh_agent(nodes, node_b)
    async with (
        customer_socket(node_a, SITE_ORIGIN) as customer,
        agent_socket(node_b, cookie) as agent,
    ):
        await hello(agent)
        session_id, _ = await start(customer)
        await join(agent, customer, session_id)

        stream = '{"v":1,"t":"stream","e":{"type":3,"data":{"source":0,"texts":[]},"timestamp":1}}'
        await customer.send(stream)
        assert await receive_raw(agent) == stream
        await agent.send('{"v":1,"t":"pointer","x":3,"y":4}')
        assert await receive(customer) == {"v": 1, "t": "pointer", "x": 3, "y": 4}

        await agent.send('{"v":1,"t":"request_write"}')
        assert (await receive(customer))["t"] == "write_request"
        await customer.send('{"v":1,"t":"write_answer","accepted":true}')
        mode = {"v": 1, "t": "mode", "mode": "write", "by": "customer"}
        assert await receive(customer) == mode
        assert await receive(agent) == mode

        await agent.send('{"v":1,"t":"exit"}')
        ended = await receive(agent)
        assert ended["reason"] == "agent_exit"
        assert await receive(customer) == ended
        assert await closed_with(customer) == (protocol.CLOSE_ENDED, "agent_exit")


async def test_one_agent_per_session_and_one_session_per_agent_across_nodes(
    nodes: Cluster,
) -> None:
    node_a, node_b = nodes.nodes
    first, second = fresh_agent(nodes, node_a), fresh_agent(nodes, node_b)
    async with (
        customer_socket(node_a, SITE_ORIGIN) as customer_x,
        customer_socket(node_b, SITE_ORIGIN) as customer_y,
        agent_socket(node_a, first) as agent_first,
        agent_socket(node_b, second) as agent_second,
    ):
        await hello(agent_first)
        await hello(agent_second)
        x, _ = await start(customer_x)
        y, _ = await start(customer_y)
        assert x != y
        await join(agent_first, customer_x, x)

        await agent_second.send(json.dumps({"v": 1, "t": "join", "id": x}))
        assert (await receive(agent_second))["code"] == "session_taken"

        # The first agent opens a console on the other node: that one takes over
        # (the old one is closed, the session is not ended) and the agent is still
        # in session x there, so it cannot join y.
        async with agent_socket(node_b, first) as agent_again:
            greeting = await hello(agent_again)
            assert greeting["session"]["id"] == x
            assert await closed_with(agent_first) == (
                protocol.CLOSE_REPLACED,
                "This agent opened another console.",
            )
            await agent_again.send(json.dumps({"v": 1, "t": "join", "id": y}))
            assert (await receive(agent_again))["code"] == "agent_busy"
            await customer_x.send('{"v":1,"t":"pointer","x":1,"y":1}')
            assert await receive_until(agent_again, "pointer") == {
                "v": 1,
                "t": "pointer",
                "x": 1,
                "y": 1,
            }


async def test_failed_joins_are_counted_across_the_cluster(nodes: Cluster) -> None:
    node_a, node_b = nodes.nodes
    cookie = fresh_agent(nodes, node_a)
    unknown = json.dumps({"v": 1, "t": "join", "id": "100000001"})
    async with agent_socket(node_a, cookie) as agent:
        await hello(agent)
        for _ in range(2):
            await agent.send(unknown)
            assert (await receive(agent))["code"] == "no_such_session"
    async with agent_socket(node_b, cookie) as agent:
        await hello(agent)
        await agent.send(unknown)
        assert (await receive(agent))["code"] == "no_such_session"
        await agent.send(unknown)
        assert (await receive(agent))["code"] == "too_many_attempts"


async def test_customer_goes_on_through_another_node_when_its_node_dies(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path, customer_grace_seconds="20") as running:
        node_a, node_b = running.nodes
        cookie = fresh_agent(running, node_b)
        async with agent_socket(node_b, cookie) as agent:
            await hello(agent)
            customer = await customer_socket(node_a, SITE_ORIGIN)
            session_id, token = await start(customer)
            await join(agent, customer, session_id)

            running.nodes[0].kill()
            with pytest.raises(ConnectionClosed):  # the connection is gone with the node
                await asyncio.wait_for(customer.recv(), 5)

            async with customer_socket(node_b, SITE_ORIGIN) as moved:
                session = await resume(moved, session_id, token)
                assert session == {"id": session_id, "state": "active", "mode": "pointer"}
                await moved.send('{"v":1,"t":"pointer","x":7,"y":8}')
                assert await receive_until(agent, "pointer") == {
                    "v": 1,
                    "t": "pointer",
                    "x": 7,
                    "y": 8,
                }
                await agent.send('{"v":1,"t":"pointer","x":9,"y":9}')
                assert await receive_until(moved, "pointer") == {
                    "v": 1,
                    "t": "pointer",
                    "x": 9,
                    "y": 9,
                }


async def test_a_stopped_node_tells_its_clients_to_reconnect_and_ends_nothing(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path, customer_grace_seconds="20") as running:
        node_a, node_b = running.nodes
        cookie = fresh_agent(running, node_b)
        async with agent_socket(node_b, cookie) as agent:
            await hello(agent)
            customer = await customer_socket(node_a, SITE_ORIGIN)
            session_id, token = await start(customer)
            await join(agent, customer, session_id)

            stopping = asyncio.get_running_loop().run_in_executor(None, node_a.stop)
            code, _ = await closed_with(customer)
            assert code == 1012, "1012 (service restart) tells the client to reconnect"
            assert await receive_until(agent, "customer_away") == {"v": 1, "t": "customer_away"}
            # uvicorn finishes its shutdown, then re-raises SIGTERM as servers should.
            assert await stopping in (0, -signal.SIGTERM)

            async with customer_socket(node_b, SITE_ORIGIN) as moved:
                await resume(moved, session_id, token)
                assert await receive_until(agent, "customer_back") == {
                    "v": 1,
                    "t": "customer_back",
                }
                await moved.send('{"v":1,"t":"pointer","x":2,"y":2}')
                assert (await receive_until(agent, "pointer"))["x"] == 2


async def test_each_timeout_ends_its_session_exactly_once(tmp_path: Path) -> None:
    with cluster(tmp_path, join_timeout_seconds="1") as running:
        node_a, node_b = running.nodes
        sessions = []
        customers = []
        for node in (node_a, node_b, node_a, node_b):
            customer = await customer_socket(node, SITE_ORIGIN)
            customers.append(customer)
            sessions.append((await start(customer))[0])
        for customer in customers:
            ended = await receive_until(customer, "ended")
            assert ended["reason"] == "join_timeout"
            assert await closed_with(customer) == (protocol.CLOSE_ENDED, "join_timeout")

        database = running.env["COBROWSE_DATABASE_URL"].replace("+asyncpg", "")
        connection = await asyncpg.connect(database)
        try:
            ends = await connection.fetch(
                "SELECT session_id, count(*) AS ends FROM audit_events "
                "WHERE kind = 'session_ended' GROUP BY session_id"
            )
        finally:
            await connection.close()
        assert {row["session_id"]: row["ends"] for row in ends} == dict.fromkeys(sessions, 1)
        counted = 0.0
        for node in running.nodes:
            metrics = (await asyncio.to_thread(httpx.get, f"{node.url}/metrics")).text
            found = re.search(
                r'cobrowse_sessions_ended_total\{reason="join_timeout"\} (\S+)', metrics
            )
            counted += float(found.group(1)) if found else 0.0
        assert counted == len(sessions)
        assert not [key for key in running.redis_keys() if ":s:" in key], (
            "ended sessions leave Redis"
        )


async def test_page_content_passes_through_redis_but_is_never_stored(nodes: Cluster) -> None:
    node_a, node_b = nodes.nodes
    cookie = fresh_agent(nodes, node_b)
    canary = "CANARY-page-content-4242"
    async with (
        customer_socket(node_a, SITE_ORIGIN) as customer,
        agent_socket(node_b, cookie) as agent,
    ):
        await hello(agent)
        session_id, _ = await start(customer)
        await join(agent, customer, session_id)
        typed = {"type": 3, "data": {"source": 0, "texts": [{"id": 5, "value": canary}]}}
        # Compact, as the server encodes what its stream filter lets through.
        frame = json.dumps({"v": 1, "t": "stream", "e": typed}, separators=(",", ":"))
        await customer.send(frame)
        assert await receive_raw(agent) == frame

        client = redis.Redis.from_url(nodes.redis_url)
        for key in client.scan_iter(f"{nodes.prefix}:*"):
            assert canary not in key.decode()
            assert canary not in repr(stored_value(client, key))


def stored_value(client: redis.Redis, key: bytes) -> object:
    kind = client.type(key).decode()  # type: ignore[union-attr]
    if kind == "string":
        return client.get(key)
    if kind == "hash":
        return client.hgetall(key)
    if kind == "set":
        return client.smembers(key)
    return client.zrange(key, 0, -1)


async def test_an_admin_on_one_node_sees_and_ends_sessions_served_by_another(
    nodes: Cluster,
) -> None:
    node_a, node_b = nodes.nodes
    admin = nodes.sign_in(node_a, nodes.add_agent("cluster-admin", role="admin"), "/admin")
    cookie = fresh_agent(nodes, node_b)
    async with (
        customer_socket(node_b, SITE_ORIGIN) as customer,
        agent_socket(node_b, cookie) as agent,
    ):
        await hello(agent)
        session_id, _ = await start(customer)
        await join(agent, customer, session_id)

        def admin_call(method: str, path: str) -> httpx.Response:
            return httpx.request(
                method,
                f"{node_a.url}/admin/api{path}",
                headers={"Cookie": admin, "Origin": node_a.url},
            )

        live = (await asyncio.to_thread(admin_call, "GET", "/live")).json()
        listed = {row["session_id"]: row for row in live["sessions"]}
        assert listed[session_id]["state"] == "active"
        ended = await asyncio.to_thread(admin_call, "POST", f"/live/{session_id}/end")
        assert ended.status_code == 200, ended.text
        assert (await receive_until(customer, "ended"))["reason"] == "admin_ended"
        assert (await receive_until(agent, "ended"))["reason"] == "admin_ended"
        assert await closed_with(customer) == (protocol.CLOSE_ENDED, "admin_ended")


async def test_readiness_reports_redis(nodes: Cluster) -> None:
    response = await asyncio.to_thread(httpx.get, f"{nodes.nodes[0].url}/readyz")
    assert response.status_code == 200
    assert response.text == "ready"
