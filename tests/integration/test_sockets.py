"""The customer and agent WebSockets over real sockets: handshake, relay, refusals."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cobrowse.core import protocol
from tests.integration.conftest import agent_socket, customer_socket
from tests.support import Deployment, sign_in_cookie

TIMEOUT = 5


async def receive(socket: ClientConnection) -> dict[str, Any]:
    frame = await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert isinstance(frame, str), "the server sends text frames"
    parsed: dict[str, Any] = json.loads(frame)
    return parsed


async def receive_raw(socket: ClientConnection) -> str:
    frame = await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert isinstance(frame, str)
    return frame


async def closed_with(socket: ClientConnection) -> tuple[int | None, str | None]:
    try:
        while True:
            await asyncio.wait_for(socket.recv(), TIMEOUT)
    except ConnectionClosed as closed:
        frame = closed.rcvd
    assert frame is not None, "the server closed with a code"
    return frame.code, frame.reason


async def start(customer: ClientConnection) -> str:
    await customer.send('{"v":1,"t":"start"}')
    started = await receive(customer)
    assert started["t"] == "session"
    assert started["session"]["state"] == "idle"
    session_id: str = started["session"]["id"]
    restrictions = await receive(customer)
    assert restrictions["t"] == "restrictions"
    assert restrictions["restrictions"]["mask_payment_cards"] is True
    assert re.fullmatch(r"[1-9][0-9]{8}", session_id)
    return session_id


async def hello(agent: ClientConnection) -> dict[str, Any]:
    greeting = await receive(agent)
    assert greeting["t"] == "hello"
    return greeting


async def join(agent: ClientConnection, customer: ClientConnection, session_id: str) -> None:
    await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
    joined = await receive(agent)
    assert joined == {
        "v": 1,
        "t": "joined",
        "session": {"id": session_id, "state": "active", "mode": "pointer"},
    }
    assert await receive(customer) == {"v": 1, "t": "agent_joined"}


async def live_pair(
    deployment: Deployment, origin: str, cookie: str
) -> tuple[ClientConnection, ClientConnection, str]:
    customer = await customer_socket(deployment, origin)
    agent = await agent_socket(deployment, cookie)
    await hello(agent)
    session_id = await start(customer)
    await join(agent, customer, session_id)
    return customer, agent, session_id


async def test_stream_and_pointer_frames_reach_the_agent_byte_for_byte(
    customer: ClientConnection, agent: ClientConnection
) -> None:
    await hello(agent)
    session_id = await start(customer)
    await join(agent, customer, session_id)

    stream = '{"v":1,"t":"stream","e":{"type":3,"data":{"source":0,"texts":[]},"timestamp":1}}'
    pointer = '{"v":1,"t":"pointer","x":12.5,"y":40}'
    await customer.send(stream)
    await customer.send(pointer)
    assert await receive_raw(agent) == stream
    assert await receive_raw(agent) == pointer


async def test_agent_pointer_and_click_reach_the_customer(
    customer: ClientConnection, agent: ClientConnection
) -> None:
    await hello(agent)
    await join(agent, customer, await start(customer))

    await agent.send('{"v":1,"t":"pointer","x":3,"y":4}')
    await agent.send('{"v":1,"t":"click","x":30,"y":40}')
    assert await receive(customer) == {"v": 1, "t": "pointer", "x": 3, "y": 4}
    assert await receive(customer) == {"v": 1, "t": "click", "x": 30, "y": 40}


async def test_nothing_is_relayed_before_an_agent_joins(
    customer: ClientConnection, agent: ClientConnection
) -> None:
    await hello(agent)
    session_id = await start(customer)
    await customer.send('{"v":1,"t":"pointer","x":1,"y":1}')
    await agent.send('{"v":1,"t":"pointer","x":2,"y":2}')
    await join(agent, customer, session_id)
    await customer.send('{"v":1,"t":"pointer","x":5,"y":5}')
    assert await receive(agent) == {"v": 1, "t": "pointer", "x": 5, "y": 5}


async def test_agent_exit_ends_the_session_for_both(
    customer: ClientConnection, agent: ClientConnection
) -> None:
    await hello(agent)
    session_id = await start(customer)
    await join(agent, customer, session_id)

    await agent.send('{"v":1,"t":"exit"}')
    ended = {
        "v": 1,
        "t": "ended",
        "reason": "agent_exit",
        "text": "The agent ended the co-browse session.",
    }
    assert await receive(agent) == ended
    assert await receive(customer) == ended
    assert await closed_with(customer) == (protocol.CLOSE_ENDED, "agent_exit")

    await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
    refused = await receive(agent)
    assert refused["t"] == "error"
    assert refused["code"] == "no_such_session"


async def test_customer_who_does_not_come_back_ends_the_session_after_the_grace_period(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    async with agent:
        await customer.close()
        assert await receive(agent) == {"v": 1, "t": "customer_away"}
        started = asyncio.get_running_loop().time()
        ended = await receive(agent)
        waited = asyncio.get_running_loop().time() - started
        assert ended["t"] == "ended"
        assert ended["reason"] == "customer_left"
        assert waited > 0.5, "the session waited for the customer"
        await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
        assert (await receive(agent))["code"] == "no_such_session"


async def test_next_page_of_the_tab_resumes_the_session(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    first_page = await customer_socket(deployment, site_origin)
    agent = await agent_socket(deployment, agent_cookie)
    await hello(agent)
    await first_page.send('{"v":1,"t":"start"}')
    started = await receive(first_page)
    await receive(first_page)  # restrictions
    session_id, token = started["session"]["id"], started["resume"]
    assert isinstance(token, str)
    assert len(token) > 30
    await join(agent, first_page, session_id)
    async with agent, customer_socket(deployment, site_origin) as next_page:
        await first_page.close()
        assert await receive(agent) == {"v": 1, "t": "customer_away"}
        await next_page.send(json.dumps({"v": 1, "t": "resume", "id": session_id, "token": token}))
        resumed = await receive(next_page)
        assert resumed["session"] == {"id": session_id, "state": "active", "mode": "pointer"}
        assert (await receive(next_page))["t"] == "restrictions"
        assert await receive(agent) == {"v": 1, "t": "customer_back"}
        await next_page.send('{"v":1,"t":"pointer","x":4,"y":4}')
        assert await receive(agent) == {"v": 1, "t": "pointer", "x": 4, "y": 4}
        await agent.send('{"v":1,"t":"pointer","x":5,"y":5}')
        assert await receive(next_page) == {"v": 1, "t": "pointer", "x": 5, "y": 5}


@pytest.mark.parametrize("wrong", ["token", "site"])
async def test_a_session_cannot_be_resumed_without_its_token_or_from_another_site(
    deployment: Deployment, site_origin: str, agent_cookie: str, wrong: str
) -> None:
    owner, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    other_origin = f"https://{wrong}-elsewhere.example"
    deployment.add_site(f"elsewhere-{wrong}", [other_origin])
    origin = other_origin if wrong == "site" else site_origin
    async with owner, agent, customer_socket(deployment, origin) as intruder:
        await intruder.send(
            json.dumps({"v": 1, "t": "resume", "id": session_id, "token": "guessed-token"})
        )
        refused = await receive(intruder)
        assert refused["t"] == "error"
        assert refused["code"] in {"bad_resume", "no_such_session"}
        assert (await closed_with(intruder))[0] == protocol.CLOSE_ENDED
        await owner.send('{"v":1,"t":"pointer","x":6,"y":6}')
        assert await receive(agent) == {"v": 1, "t": "pointer", "x": 6, "y": 6}


async def test_agent_in_a_session_cannot_join_another(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, first_id = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent, customer_socket(deployment, site_origin) as other:
        second_id = await start(other)
        await agent.send(json.dumps({"v": 1, "t": "join", "id": second_id}))
        refused = await receive(agent)
        assert refused["code"] == "agent_busy"
        assert first_id in refused["text"]


async def test_one_agent_per_session(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    other_cookie = sign_in_cookie(deployment, deployment.add_agent("second-agent"))
    async with customer, agent, agent_socket(deployment, other_cookie) as intruder:
        await hello(intruder)
        await intruder.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
        refused = await receive(intruder)
        assert refused["code"] == "session_taken"


async def test_reconnecting_console_returns_to_its_session_and_asks_for_a_snapshot(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    await agent.close()
    async with customer, agent_socket(deployment, agent_cookie) as returned:
        greeting = await hello(returned)
        assert greeting["session"] == {"id": session_id, "state": "active", "mode": "pointer"}
        assert await receive(customer) == {"v": 1, "t": "snapshot"}
        await customer.send('{"v":1,"t":"pointer","x":7,"y":8}')
        assert await receive(returned) == {"v": 1, "t": "pointer", "x": 7, "y": 8}


async def test_a_second_console_replaces_the_first(
    deployment: Deployment, agent_cookie: str
) -> None:
    async with agent_socket(deployment, agent_cookie) as first:
        await hello(first)
        async with agent_socket(deployment, agent_cookie) as second:
            await hello(second)
            code, _ = await closed_with(first)
            assert code == protocol.CLOSE_REPLACED


async def test_failed_joins_are_throttled(agent: ClientConnection) -> None:
    await hello(agent)
    codes = []
    for attempt in range(6):
        await agent.send(json.dumps({"v": 1, "t": "join", "id": f"99999999{attempt}"}))
        codes.append((await receive(agent))["code"])
    # join_attempts_per_minute is 5 in this deployment
    assert codes == ["no_such_session"] * 5 + ["too_many_attempts"]


# Refusals and bad input ------------------------------------------------------------


async def test_customer_socket_from_unregistered_origin_is_refused(
    deployment: Deployment,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with customer_socket(deployment, "http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_customer_socket_without_origin_is_refused(deployment: Deployment) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{deployment.ws_url}/ws/customer", proxy=None):
            pass
    assert refused.value.response.status_code == 403


async def test_agent_socket_from_another_site_is_refused(
    deployment: Deployment, agent_cookie: str, site_origin: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{deployment.ws_url}/ws/agent",
            origin=site_origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": agent_cookie},
            proxy=None,
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_agent_socket_without_sign_in_is_closed_4401(deployment: Deployment) -> None:
    async with agent_socket(deployment, "cobrowse_agent=forged") as socket:
        assert await closed_with(socket) == (protocol.CLOSE_UNAUTHENTICATED, "Sign in again.")


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("not json", "must be a JSON object"),
        ("[1, 2]", "Invalid customer message"),
        ('{"v":1,"t":"teleport"}', "Invalid customer message"),
        ('{"v":2,"t":"start"}', "Invalid customer message"),
        ('{"v":1,"t":"join","id":"123456789"}', "Invalid customer message"),
        ('{"v":1,"t":"stream","e":{}}', "Start a session first."),
        (b"\x00binary", "Frames must be text (JSON)."),
    ],
)
async def test_bad_customer_frames_close_4400_and_leave_other_sessions_alone(
    deployment: Deployment,
    site_origin: str,
    agent_cookie: str,
    frame: str | bytes,
    problem: str,
) -> None:
    bystander, watcher, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with bystander, watcher, customer_socket(deployment, site_origin) as offender:
        await offender.send(frame)
        error = await receive(offender)
        assert error["t"] == "error"
        assert error["code"] == "bad_message"
        assert problem in error["text"]
        code, reason = await closed_with(offender)
        assert code == protocol.CLOSE_BAD_MESSAGE
        assert reason is not None
        assert problem[:40] in reason

        await bystander.send('{"v":1,"t":"pointer","x":1,"y":2}')
        assert await receive(watcher) == {"v": 1, "t": "pointer", "x": 1, "y": 2}


async def test_bad_agent_frame_closes_4400(agent: ClientConnection) -> None:
    await hello(agent)
    await agent.send('{"v":1,"t":"stream","e":{}}')
    error = await receive(agent)
    assert error["code"] == "bad_message"
    assert (await closed_with(agent))[0] == protocol.CLOSE_BAD_MESSAGE


async def test_oversized_frame_closes_1009_and_leaves_other_sessions_alone(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    bystander, watcher, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with bystander, watcher, customer_socket(deployment, site_origin) as offender:
        await start(offender)
        padding = "x" * (deployment.settings.max_message_bytes + 1)
        await offender.send(json.dumps({"v": 1, "t": "stream", "e": {"pad": padding}}))
        code, _ = await closed_with(offender)
        assert code == 1009

        await bystander.send('{"v":1,"t":"pointer","x":9,"y":9}')
        assert await receive(watcher) == {"v": 1, "t": "pointer", "x": 9, "y": 9}


async def test_metrics_count_sessions_frames_and_refusals(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        pointer = '{"v":1,"t":"pointer","x":1,"y":2}'
        await customer.send(pointer)
        await receive(agent)
        await agent.send('{"v":1,"t":"act","a":"key","key":"x"}')
        await receive(agent)  # refused: pointer mode
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"{deployment.url}/metrics")).text
            ready = await client.get(f"{deployment.url}/readyz")
    assert ready.status_code == 200
    assert ready.text == "ready"
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line and not line.startswith("#")
    }
    assert values['cobrowse_live_sessions{state="active"}'] >= 1
    assert values['cobrowse_frames_relayed_total{direction="to_agent"}'] >= 1
    assert values['cobrowse_bytes_relayed_total{direction="to_agent"}'] >= len(pointer)
    assert values['cobrowse_relay_seconds_count{direction="to_agent"}'] >= 1
    assert values['cobrowse_actions_refused_total{code="pointer_mode"}'] >= 1
