"""Primary interactions over the real server: created, read, listed and ended through
the REST API, with the co-browse report of a session driven over real WebSockets."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cobrowse.core import protocol
from cobrowse.store.db import Database
from cobrowse.store.interactions import InteractionStore
from cobrowse.store.models import AuditEvent
from tests.integration.test_sockets import closed_with, live_pair, receive
from tests.support import Deployment, sign_in_cookie

_numbers = itertools.count(1)

FIELDS = {
    "id",
    "kind",
    "state",
    "agent",
    "customer_reference",
    "site",
    "created_at",
    "ended_at",
    "ended_by",
}
NO_COBROWSE = {"co_browsed": False, "session_count": 0, "sessions": []}


class RecordingListener:
    """Stands in for the live layer: remembers what it was told to end."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    async def interaction_ended(self, interaction_id: str, session_ids: list[str]) -> None:
        self.calls.append((interaction_id, session_ids))


@pytest.fixture
def listener(deployment: Deployment) -> Iterator[RecordingListener]:
    recording = RecordingListener()
    deployment.services.interaction_end_listeners.append(recording)
    yield recording
    deployment.services.interaction_end_listeners.remove(recording)


@pytest.fixture
def agent_name(deployment: Deployment) -> str:
    return deployment.add_agent(f"interaction-agent-{next(_numbers)}")


class Api:
    """The REST API with one key, the way a contact-center system calls it."""

    def __init__(self, deployment: Deployment, key: str) -> None:
        self._client = httpx.Client(
            base_url=f"{deployment.url}/api/v1", headers={"Authorization": f"Bearer {key}"}
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self._client.get(path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self._client.post(path, json=body)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self._client.put(path, json=body)

    def create(self, **body: Any) -> dict[str, Any]:
        response = self.post("/interactions", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def api(deployment: Deployment, api_key: str) -> Iterator[Api]:
    client = Api(deployment, api_key)
    yield client
    client.close()


def refused(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    text: str = response.json()["text"]
    return text


def test_an_interaction_is_created_and_read_back(
    api: Api, agent_name: str, deployment: Deployment
) -> None:
    response = api.post(
        "/interactions",
        {"kind": "voice", "agent": agent_name, "customer_reference": "CRM-48213", "site": "shop"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == FIELDS
    assert created["id"].startswith("int_")
    assert (created["kind"], created["state"], created["agent"]) == ("voice", "open", agent_name)
    assert (created["customer_reference"], created["site"]) == ("CRM-48213", "shop")
    assert (created["ended_at"], created["ended_by"]) == (None, None)
    assert datetime.fromisoformat(created["created_at"]).utcoffset() is not None
    assert response.headers["location"] == (f"{deployment.url}/api/v1/interactions/{created['id']}")

    read = api.get(f"/interactions/{created['id']}")
    assert read.status_code == 200
    assert read.json() == {**created, "cobrowse": NO_COBROWSE}


def test_a_queued_chat_gets_its_agent_later(api: Api, agent_name: str) -> None:
    queued = api.create(kind="chat")
    assert (queued["agent"], queued["customer_reference"], queued["site"]) == (None, None, None)
    assigned = api.put(f"/interactions/{queued['id']}/agent", {"agent": agent_name})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["agent"] == agent_name
    assert api.get(f"/interactions/{queued['id']}").json()["agent"] == agent_name


def test_listing_filters_by_state_agent_and_kind(api: Api, agent_name: str) -> None:
    chat = api.create(kind="chat", agent=agent_name)
    call = api.create(kind="voice", agent=agent_name)
    ended = api.create(kind="voice", agent=agent_name)
    assert api.post(f"/interactions/{ended['id']}/end").status_code == 200

    def ids(**params: Any) -> list[str]:
        response = api.get("/interactions", agent=agent_name, **params)
        assert response.status_code == 200, response.text
        return [interaction["id"] for interaction in response.json()]

    assert ids() == [ended["id"], call["id"], chat["id"]]
    assert ids(state="open") == [call["id"], chat["id"]]
    assert ids(state="ended") == [ended["id"]]
    assert ids(kind="chat") == [chat["id"]]
    assert ids(state="open", kind="voice") == [call["id"]]
    assert ids(limit=1) == [ended["id"]]
    assert api.get("/interactions", agent="nobody-at-all").json() == []
    assert "cobrowse" not in api.get("/interactions", agent=agent_name).json()[0]


def test_ending_is_final_and_a_retry_says_it_had_ended(
    api: Api, agent_name: str, listener: RecordingListener
) -> None:
    interaction = api.create(kind="voice", agent=agent_name)
    first = api.post(f"/interactions/{interaction['id']}/end")
    assert first.status_code == 200, first.text
    ended = first.json()
    assert ended["state"] == "ended"
    assert ended["ended_by"].startswith("api:key-")
    assert ended["ended_at"] is not None
    assert ended["already_ended"] is False
    assert ended["cobrowse"] == NO_COBROWSE
    assert listener.calls == [], "no live session to end"

    again = api.post(f"/interactions/{interaction['id']}/end")
    assert again.status_code == 200
    assert again.json() == {**ended, "already_ended": True}

    text = refused(
        api.put(f"/interactions/{interaction['id']}/agent", {"agent": agent_name}),
        409,
        "interaction_ended",
    )
    assert interaction["id"] in text


@pytest.mark.parametrize(
    ("body", "error", "named"),
    [
        ({"kind": "voice", "agent": "mallory"}, "unknown_agent", "mallory"),
        ({"kind": "voice", "site": "blog"}, "unknown_site", "blog"),
        ({"kind": "fax"}, "invalid_request", "kind"),
        ({}, "invalid_request", "kind"),
        (
            {"kind": "chat", "customer_reference": "x" * 201},
            "invalid_request",
            "customer_reference",
        ),
        ({"kind": "chat", "customer_reference": "a\nb"}, "invalid_interaction", "control"),
        ({"kind": "chat", "agent": "no spaces"}, "invalid_request", "agent"),
        ({"kind": "chat", "priority": 1}, "invalid_request", "priority"),
    ],
)
def test_bad_interactions_are_refused_and_named(
    api: Api, body: dict[str, Any], error: str, named: str
) -> None:
    assert named in refused(api.post("/interactions", body), 422, error)


def test_an_unknown_agent_cannot_be_assigned(api: Api) -> None:
    interaction = api.create(kind="chat")
    text = refused(
        api.put(f"/interactions/{interaction['id']}/agent", {"agent": "mallory"}),
        422,
        "unknown_agent",
    )
    assert "mallory" in text


def test_unknown_interactions_are_404(api: Api, agent_name: str) -> None:
    unknown = "int_aaaaaaaaaaaaaaaaaaaaaaaa"
    assert unknown in refused(api.get(f"/interactions/{unknown}"), 404, "unknown_interaction")
    refused(api.post(f"/interactions/{unknown}/end"), 404, "unknown_interaction")
    refused(
        api.put(f"/interactions/{unknown}/agent", {"agent": agent_name}),
        404,
        "unknown_interaction",
    )


def test_interactions_need_an_api_key(deployment: Deployment) -> None:
    url = f"{deployment.url}/api/v1/interactions"
    refused(httpx.get(url), 401, "unauthorized")
    refused(httpx.post(url, json={"kind": "chat"}), 401, "unauthorized")
    wrong_key = {"Authorization": "Bearer cbk_not-a-key"}
    refused(httpx.get(url, headers=wrong_key), 401, "unauthorized")


def test_changes_are_audited_with_the_key(
    api: Api, api_key: str, agent_name: str, deployment: Deployment
) -> None:
    interaction = api.create(kind="voice", agent=agent_name)
    api.post(f"/interactions/{interaction['id']}/end")
    api.post(f"/interactions/{interaction['id']}/end")

    async def audited() -> list[tuple[str, dict[str, object]]]:
        db = Database(deployment.settings.database_url)
        try:
            async with db.sessions() as tx:
                events = await tx.scalars(select(AuditEvent).order_by(AuditEvent.id))
                return [
                    (event.kind, event.detail)
                    for event in events.all()
                    if event.detail.get("interaction") == interaction["id"]
                ]
        finally:
            await db.close()

    events = asyncio.run(audited())
    assert [kind for kind, _ in events] == ["interaction_created", "interaction_ended"]
    assert all(detail["api_key"] for _, detail in events)
    assert "customer_reference" not in str(events)


async def bind(deployment: Deployment, session_id: str, interaction_id: str) -> None:
    """Bind a live session the way the live layer will when the agent joins."""
    db = Database(deployment.settings.database_url)
    try:
        await InteractionStore(db).bind_session(session_id, interaction_id)
    finally:
        await db.close()


async def test_the_cobrowse_report_of_a_real_session(
    deployment: Deployment,
    site_origin: str,
    agent_name: str,
    api_key: str,
    listener: RecordingListener,
) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=f"{deployment.url}/api/v1", headers=headers) as client:
        created = await client.post("/interactions", json={"kind": "voice", "agent": agent_name})
        interaction_id = created.json()["id"]
        customer, agent, session_id = await live_pair(
            deployment, site_origin, sign_in_cookie(deployment, agent_name)
        )
        async with customer, agent:
            await bind(deployment, session_id, interaction_id)
            await agent.send('{"v":1,"t":"request_write"}')
            assert await receive(customer) == {"v": 1, "t": "write_request"}
            await customer.send('{"v":1,"t":"write_answer","accepted":false}')
            assert (await receive(agent))["t"] == "write_declined"

            live = (await client.get(f"/interactions/{interaction_id}")).json()["cobrowse"]
            assert (live["co_browsed"], live["session_count"]) == (True, 1)
            [session] = live["sessions"]
            assert session["session_id"] == session_id
            assert session["agent"] == agent_name
            assert (session["ended_at"], session["duration_seconds"]) == (None, None)
            assert session["write_mode_declined"] is True

            ended = await client.post(f"/interactions/{interaction_id}/end")
            assert ended.status_code == 200, ended.text
            assert listener.calls == [(interaction_id, [session_id])]

            # Ending the call ended its co-browse session, for both parties (P2).
            told = await receive(agent)
            assert told["t"] == "ended"
            assert told["reason"] == "interaction_ended"
            assert told["text"].startswith("The chat or call this co-browse session belonged to")
            assert await receive(customer) == told
            assert await closed_with(customer) == (protocol.CLOSE_ENDED, "interaction_ended")

        report = (await client.get(f"/interactions/{interaction_id}")).json()["cobrowse"]
        [session] = report["sessions"]
        assert session["end_reason"] == "interaction_ended"
        started = datetime.fromisoformat(session["started_at"])
        joined = datetime.fromisoformat(session["joined_at"])
        finished = datetime.fromisoformat(session["ended_at"])
        assert started <= joined <= finished
        assert session["duration_seconds"] == pytest.approx((finished - started).total_seconds())

        history = await client.get("/sessions", params={"agent": agent_name})
        assert [record["interaction_id"] for record in history.json()] == [interaction_id]

        # Ending again tells the listener nothing: no session of it is live any more.
        again = await client.post(f"/interactions/{interaction_id}/end")
        assert again.json()["already_ended"] is True
        assert len(listener.calls) == 1


def test_the_endpoints_are_described_in_openapi(deployment: Deployment) -> None:
    document = httpx.get(f"{deployment.url}/api/v1/openapi.json").json()
    paths = document["paths"]
    operations = {
        ("/interactions", "post"): "create_interaction",
        ("/interactions", "get"): "list_interactions",
        ("/interactions/{interaction_id}", "get"): "get_interaction",
        ("/interactions/{interaction_id}/end", "post"): "end_interaction",
        ("/interactions/{interaction_id}/agent", "put"): "assign_agent",
    }
    for (path, method), operation_id in operations.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"]
        assert operation["description"]
        assert "401" in operation["responses"]
    assert "201" in paths["/interactions"]["post"]["responses"]
    assert "404" in paths["/interactions/{interaction_id}/end"]["post"]["responses"]
    assert "409" in paths["/interactions/{interaction_id}/agent"]["put"]["responses"]
    schemas = document["components"]["schemas"]
    reference = schemas["NewInteraction"]["properties"]["customer_reference"]
    assert "must not carry secrets" in reference["description"]
    assert reference["examples"] == ["CRM-48213"]
    assert set(schemas["CobrowseReport"]["properties"]) == {
        "co_browsed",
        "session_count",
        "sessions",
    }
    assert "already_ended" in schemas["EndedInteraction"]["properties"]
