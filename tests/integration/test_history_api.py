"""Session history over the real server: a session driven over real WebSockets, read
back through GET /api/v1/sessions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.test_sockets import closed_with, live_pair, receive
from tests.integration.test_write_mode import to_write_mode
from tests.support import Deployment, sign_in_cookie

_agent_numbers = itertools.count(1)

SECRET = "Jane Customer IBAN DE89370400440532013000"
PAGE_URL = "https://shop.example/checkout/payment?order=4711"
STREAM = (
    '{"v":1,"t":"stream","e":{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":3,'
    f'"textContent":"{SECRET}"}}]}},"href":"{PAGE_URL}"}},"timestamp":1}}}}'
)
FIELDS = {
    "session_id",
    "site",
    "agent",
    "started_at",
    "joined_at",
    "ended_at",
    "end_reason",
    "duration_seconds",
    "write_mode_requests",
    "write_mode_declined",
    "mode_changes",
    "interaction_id",
}


def sessions(deployment: Deployment, key: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.get(f"{deployment.url}/api/v1/sessions", params=params, headers=headers)


async def a_finished_session(deployment: Deployment, site_origin: str, agent_name: str) -> str:
    """Join, decline write mode once, accept it, go back to pointer, agent exits."""
    customer, agent, session_id = await live_pair(
        deployment, site_origin, sign_in_cookie(deployment, agent_name)
    )
    async with customer, agent:
        await customer.send(STREAM)
        assert SECRET in str(await receive(agent))
        await agent.send('{"v":1,"t":"request_write"}')
        assert await receive(customer) == {"v": 1, "t": "write_request"}
        await customer.send('{"v":1,"t":"write_answer","accepted":false}')
        assert (await receive(agent))["t"] == "write_declined"
        await to_write_mode(customer, agent)
        await customer.send('{"v":1,"t":"pointer_mode"}')
        assert (await receive(agent))["mode"] == "pointer"
        await agent.send('{"v":1,"t":"exit"}')
        assert (await receive(agent))["reason"] == "agent_exit"
        await closed_with(customer)
    return session_id


@pytest.fixture
def agent_name(deployment: Deployment) -> str:
    return deployment.add_agent(f"history-agent-{next(_agent_numbers)}")


async def test_a_session_is_read_back_with_its_metadata_and_nothing_else(
    deployment: Deployment, site_origin: str, agent_name: str, api_key: str
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    session_id = await a_finished_session(deployment, site_origin, agent_name)
    after = datetime.now(UTC) + timedelta(seconds=1)

    response = sessions(deployment, api_key, agent=agent_name)
    assert response.status_code == 200, response.text
    [record] = response.json()
    assert set(record) == FIELDS
    assert record["session_id"] == session_id
    assert record["site"] == "shop"
    assert record["agent"] == agent_name
    assert record["end_reason"] == "agent_exit"
    assert record["write_mode_requests"] == 2
    assert record["write_mode_declined"] == 1
    assert record["mode_changes"] == 2
    started = datetime.fromisoformat(record["started_at"])
    joined = datetime.fromisoformat(record["joined_at"])
    ended = datetime.fromisoformat(record["ended_at"])
    assert started.utcoffset() == timedelta(0)
    assert before <= started <= joined <= ended <= after
    assert record["duration_seconds"] == pytest.approx((ended - started).total_seconds())

    # Metadata only: nothing the page showed or where it was.
    for forbidden in (SECRET, "IBAN", "checkout", "shop.example", "4711", site_origin):
        assert forbidden not in response.text


async def test_filters_narrow_the_history(
    deployment: Deployment, site_origin: str, agent_name: str, api_key: str
) -> None:
    first = await a_finished_session(deployment, site_origin, agent_name)
    second = await a_finished_session(deployment, site_origin, agent_name)

    def ids(**params: Any) -> list[str]:
        response = sessions(deployment, api_key, agent=agent_name, **params)
        assert response.status_code == 200, response.text
        return [record["session_id"] for record in response.json()]

    assert ids() == [second, first], "newest first"
    assert ids(limit=1) == [second]
    assert ids(site="shop", end_reason="agent_exit") == [second, first]
    assert ids(site="blog") == []
    assert ids(end_reason="inactivity") == []
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert ids(since=soon) == []
    assert ids(until=soon) == [second, first]
    assert ids(until="2000-01-01T00:00:00Z") == []
    assert sessions(deployment, api_key, agent="nobody-at-all").json() == []


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"end_reason": "bored"}, "end_reason"),
    ],
)
def test_malformed_filters_are_refused_and_named(
    deployment: Deployment, api_key: str, params: dict[str, Any], named: str
) -> None:
    response = sessions(deployment, api_key, **params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert named in response.json()["text"]


def test_the_history_needs_an_api_key(deployment: Deployment) -> None:
    response = sessions(deployment, None)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert sessions(deployment, "cbk_not-a-key").status_code == 401


def test_the_endpoint_is_described_in_openapi(deployment: Deployment) -> None:
    document = httpx.get(f"{deployment.url}/api/v1/openapi.json").json()
    operation = document["paths"]["/sessions"]["get"]
    assert operation["operationId"] == "list_sessions"
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "since",
        "until",
        "agent",
        "site",
        "end_reason",
        "limit",
    }
    assert "SessionRecord" in document["components"]["schemas"]
