"""Timeouts over real sockets, with short configured values (E2, E3)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from cobrowse.demo.website import SAMPLE_SITE
from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_sockets import hello, join, receive, start
from tests.support import Deployment, deploy, sign_in_cookie


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("quick"),
        {"shop": SAMPLE_SITE},
        join_timeout_seconds=1.0,
        inactivity_timeout_seconds=2.5,
        agent_grace_seconds=1.0,
        customer_grace_seconds=1.0,
    )
    yield running
    running.stop()


def agent_cookie(quick: Deployment, name: str) -> str:
    return sign_in_cookie(quick, quick.add_agent(name))


async def test_session_without_an_agent_ends_at_the_join_timeout(quick: Deployment) -> None:
    async with customer_socket(quick, quick.site_urls["shop"]) as customer:
        await start(customer)
        ended = await receive(customer)
        assert ended["t"] == "ended"
        assert ended["reason"] == "join_timeout"
        assert ended["text"] == "No agent joined in time, so the co-browse session ended."


async def test_idle_session_ends_for_inactivity_and_activity_keeps_it(
    quick: Deployment,
) -> None:
    cookie = agent_cookie(quick, "inactive-agent")
    async with (
        customer_socket(quick, quick.site_urls["shop"]) as customer,
        agent_socket(quick, cookie) as agent,
    ):
        await hello(agent)
        await join(agent, customer, await start(customer))
        for x in range(4):  # 2 s of pointer movement keeps the session going
            await customer.send(json.dumps({"v": 1, "t": "pointer", "x": x, "y": 1}))
            assert (await receive(agent))["t"] == "pointer"
            await asyncio.sleep(0.5)
        ended = await receive(agent)
        assert ended["reason"] == "inactivity"
        assert (await receive(customer))["reason"] == "inactivity"


async def test_agent_console_that_does_not_come_back_ends_the_session(
    quick: Deployment,
) -> None:
    cookie = agent_cookie(quick, "leaving-agent")
    async with customer_socket(quick, quick.site_urls["shop"]) as customer:
        session_id = await start(customer)
        async with agent_socket(quick, cookie) as agent:
            await hello(agent)
            await join(agent, customer, session_id)
        ended = await receive(customer)
        assert ended["reason"] == "agent_left"
        assert "did not come back" in ended["text"]


async def test_agent_console_that_comes_back_in_time_keeps_the_session(
    quick: Deployment,
) -> None:
    cookie = agent_cookie(quick, "returning-agent")
    async with customer_socket(quick, quick.site_urls["shop"]) as customer:
        session_id = await start(customer)
        async with agent_socket(quick, cookie) as agent:
            await hello(agent)
            await join(agent, customer, session_id)
        async with agent_socket(quick, cookie) as returned:
            greeting = await hello(returned)
            assert greeting["session"]["id"] == session_id
            assert await receive(customer) == {"v": 1, "t": "snapshot"}
            await asyncio.sleep(1.5)
            await customer.send('{"v":1,"t":"pointer","x":1,"y":1}')
            assert await receive(returned) == {"v": 1, "t": "pointer", "x": 1, "y": 1}
