"""The web chat across the nodes of a cluster: the customer's chat socket on one node,
the agent's console on another (their frames cross through the Redis fan-out)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.cluster import SITE_ORIGIN, Cluster, Node, cluster
from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_cluster import receive_until
from tests.integration.test_sockets import hello

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("chat-cluster")) as running:
        yield running


def chat_socket(node: Node) -> connect:
    return connect(f"{node.ws_url}/ws/chat", origin=SITE_ORIGIN, proxy=None)  # type: ignore[arg-type]


async def send(socket: ClientConnection, **frame: object) -> None:
    await socket.send(json.dumps({"v": 1, **frame}))


async def message_from(socket: ClientConnection, sender: str) -> dict[str, Any]:
    while True:
        frame = await receive_until(socket, "chat_message")
        if frame["message"]["sender"] == sender:
            return frame


async def test_chat_messages_and_its_end_cross_nodes(nodes: Cluster) -> None:
    node_a, node_b = nodes.nodes
    cookie = nodes.sign_in(node_b, nodes.add_agent("chat-cluster-agent"))
    async with (
        chat_socket(node_a) as chat,
        agent_socket(node_b, cookie) as agent,
    ):
        await hello(agent)
        await send(chat, t="chat_start", name="Grace", text="Hello from node A")
        started = await receive_until(chat, "chat")
        chat_id = started["id"]

        await send(agent, t="chat_accept", id=chat_id)
        history = await receive_until(agent, "chat_history")
        assert [m["text"] for m in history["messages"]][:1] == ["Hello from node A"]
        accepted = await receive_until(chat, "chat_accepted")
        assert accepted["agent"] == "chat-cluster-agent"

        await send(agent, t="chat_reply", id=chat_id, text="Hello from node B")
        assert (await message_from(chat, "agent"))["message"]["text"] == "Hello from node B"
        await send(chat, t="chat_say", text="Seen on node B?")
        assert (await message_from(agent, "customer"))["message"]["text"] == "Seen on node B?"

        async with customer_socket(node_a, SITE_ORIGIN) as page:
            await send(page, t="start", chat=chat_id, token=started["token"])
            session_id = (await receive_until(page, "session"))["session"]["id"]
            while True:
                request = await message_from(agent, "system")
                if request["message"]["session"] is not None:
                    break
            assert request["message"]["session"] == session_id
            await send(agent, t="join", id=session_id)
            await receive_until(agent, "joined")
            await receive_until(page, "agent_joined")

            await send(agent, t="chat_end", id=chat_id)
            told = await receive_until(chat, "chat_ended")
            assert told["text"] == "The agent ended the chat."
            ended = await receive_until(page, "ended")
            assert ended["reason"] == "interaction_ended"
