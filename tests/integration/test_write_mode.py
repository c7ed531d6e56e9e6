"""Write mode over real sockets, and the server's enforcement of who may send what (R7)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection

from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_sockets import closed_with, live_pair, receive, receive_raw, start
from tests.support import Deployment

ACT_CLICK = '{"v":1,"t":"act","a":"click","id":12,"x":10,"y":20}'
ACT_KEY = '{"v":1,"t":"act","a":"key","key":"a"}'


async def nothing_arrives(socket: ClientConnection, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.recv(), seconds)


async def to_write_mode(customer: ClientConnection, agent: ClientConnection) -> None:
    await agent.send('{"v":1,"t":"request_write"}')
    assert await receive(customer) == {"v": 1, "t": "write_request"}
    await customer.send('{"v":1,"t":"write_answer","accepted":true}')
    notice = {"v": 1, "t": "mode", "mode": "write", "by": "customer"}
    assert await receive(customer) == notice
    assert await receive(agent) == notice


async def test_agent_actions_reach_the_page_only_after_the_customer_accepts(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await agent.send(ACT_CLICK)
        refused = await receive(agent)
        assert refused["t"] == "error"
        assert refused["code"] == "pointer_mode"
        await nothing_arrives(customer)

        await to_write_mode(customer, agent)
        await agent.send(ACT_CLICK)
        await agent.send(ACT_KEY)
        assert await receive_raw(customer) == ACT_CLICK
        assert await receive_raw(customer) == ACT_KEY


async def test_declined_request_leaves_pointer_mode(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await agent.send('{"v":1,"t":"request_write"}')
        assert await receive(customer) == {"v": 1, "t": "write_request"}
        await customer.send('{"v":1,"t":"write_answer","accepted":false}')
        declined = await receive(agent)
        assert declined == {
            "v": 1,
            "t": "write_declined",
            "text": "The customer declined write mode.",
        }
        await agent.send(ACT_KEY)
        assert (await receive(agent))["code"] == "pointer_mode"
        await nothing_arrives(customer)


@pytest.mark.parametrize("who", ["customer", "agent"])
async def test_either_side_returns_to_pointer_mode(
    deployment: Deployment, site_origin: str, agent_cookie: str, who: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await to_write_mode(customer, agent)
        chooser = customer if who == "customer" else agent
        await chooser.send('{"v":1,"t":"pointer_mode"}')
        notice = {"v": 1, "t": "mode", "mode": "pointer", "by": who}
        assert await receive(customer) == notice
        assert await receive(agent) == notice
        await agent.send(ACT_CLICK)
        assert (await receive(agent))["code"] == "pointer_mode"
        await nothing_arrives(customer)


async def test_customer_refusals_reach_the_agent(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        refusal = '{"v":1,"t":"refused","code":"masked","text":"This field is hidden from you."}'
        await customer.send(refusal)
        assert await receive_raw(agent) == refusal


async def test_console_that_returns_sees_the_current_mode(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    async with customer:
        await to_write_mode(customer, agent)
        await agent.close()
        async with agent_socket(deployment, agent_cookie) as returned:
            hello = await receive(returned)
            assert hello["session"] == {"id": session_id, "state": "active", "mode": "write"}


# Who may send what: every message type from both roles ------------------------------

CUSTOMER_ONLY = {
    "start": '{"v":1,"t":"start"}',
    "stream": '{"v":1,"t":"stream","e":{}}',
    "write_answer": '{"v":1,"t":"write_answer","accepted":true}',
    "refused": '{"v":1,"t":"refused","code":"masked","text":"x"}',
}
AGENT_ONLY = {
    "join": '{"v":1,"t":"join","id":"123456789"}',
    "click": '{"v":1,"t":"click","x":1,"y":1}',
    "request_write": '{"v":1,"t":"request_write"}',
    "act": ACT_CLICK,
}


@pytest.mark.parametrize(("kind", "frame"), sorted(AGENT_ONLY.items()))
async def test_customer_cannot_send_agent_messages(
    deployment: Deployment, site_origin: str, kind: str, frame: str
) -> None:
    async with customer_socket(deployment, site_origin) as customer:
        await start(customer)
        await customer.send(frame)
        error = await receive(customer)
        assert error["code"] == "bad_message", kind
        assert f"'{kind}'" in error["text"] or "Invalid customer message" in error["text"]
        code, _ = await closed_with(customer)
        assert code == 4400


@pytest.mark.parametrize(("kind", "frame"), sorted(CUSTOMER_ONLY.items()))
async def test_agent_cannot_send_customer_messages(
    deployment: Deployment, agent_cookie: str, kind: str, frame: str
) -> None:
    async with agent_socket(deployment, agent_cookie) as agent:
        await receive(agent)  # hello
        await agent.send(frame)
        error = await receive(agent)
        assert error["code"] == "bad_message", kind
        assert "Invalid agent message" in error["text"]
        code, _ = await closed_with(agent)
        assert code == 4400


@pytest.mark.parametrize("frame", ['{"v":1,"t":"pointer","x":1,"y":2}', '{"v":1,"t":"exit"}'])
async def test_shared_message_types_are_accepted_from_both(
    deployment: Deployment, site_origin: str, agent_cookie: str, frame: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await agent.send(frame)
        arrived = await receive(customer)
        assert arrived["t"] in {"pointer", "ended"}
        if arrived["t"] == "pointer":
            await customer.send(frame)
            assert json.loads(await receive_raw(agent)) == json.loads(frame)
