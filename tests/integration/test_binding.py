"""S2 over the real server: a session joined by its ID is bound to the agent's open
call, joining without one is refused in words, and a chat's session is its agent's.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import select

from cobrowse.core import protocol
from cobrowse.core.interactions import InteractionKind
from cobrowse.core.session import Refusal, Session
from cobrowse.demo.website import SAMPLE_SITE
from cobrowse.integration.binding import InteractionBinding
from cobrowse.store.db import Database
from cobrowse.store.interactions import InteractionStore
from cobrowse.store.models import AuditEvent
from cobrowse.store.users import UserRole, UserStore
from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_sockets import closed_with, hello, join, receive, start
from tests.support import Deployment, deploy, sign_in_cookie

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("binding"),
        {"shop": SAMPLE_SITE},
        require_interaction=True,
        join_attempts_per_minute=3,
    )
    yield running
    running.stop()


@pytest.fixture
def agent_name(deployment: Deployment) -> str:
    return deployment.add_agent(f"binding-agent-{next(_numbers)}")


@pytest.fixture
async def api(deployment: Deployment, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=f"{deployment.url}/api/v1", headers=headers) as client:
        yield client


async def created(api: httpx.AsyncClient, kind: str, agent: str) -> str:
    answer = await api.post("/interactions", json={"kind": kind, "agent": agent})
    assert answer.status_code == 201, answer.text
    interaction_id: str = answer.json()["id"]
    return interaction_id


async def test_joining_without_an_open_call_is_refused_in_words(
    deployment: Deployment, site_origin: str, agent_name: str
) -> None:
    cookie = sign_in_cookie(deployment, agent_name)
    async with (
        customer_socket(deployment, site_origin) as customer,
        agent_socket(deployment, cookie) as agent,
    ):
        await hello(agent)
        session_id = await start(customer)
        # More refusals than the guessing throttle allows: these are no guesses.
        for _ in range(5):
            await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
            refused = await receive(agent)
            assert refused["t"] == "error"
            assert refused["code"] == "no_interaction"
            assert "Register the customer's call first" in refused["text"]
        # The session is untouched: still waiting for an agent.
        live = await deployment.services.live.state.get(session_id)
        assert live is not None
        assert live.state.value == "idle"
    db = Database(deployment.settings.database_url)
    try:
        async with db.sessions() as tx:
            codes = (
                await tx.scalars(
                    select(AuditEvent.detail)
                    .where(AuditEvent.kind == "join_refused")
                    .where(AuditEvent.actor == agent_name)
                )
            ).all()
        assert codes
        assert all(code["code"] == "no_interaction" for code in codes)
    finally:
        await db.close()


async def test_a_join_binds_the_session_to_the_agents_open_call_and_ending_it_ends_both(
    deployment: Deployment, site_origin: str, agent_name: str, api: httpx.AsyncClient
) -> None:
    older = await created(api, "voice", agent_name)
    call = await created(api, "voice", agent_name)
    # A chat of the agent's is no call to bind a CallUs session to.
    await created(api, "chat", agent_name)
    cookie = sign_in_cookie(deployment, agent_name)
    async with (
        customer_socket(deployment, site_origin) as customer,
        agent_socket(deployment, cookie) as agent,
    ):
        await hello(agent)
        session_id = await start(customer)
        await join(agent, customer, session_id)
        live = await deployment.services.live.state.get(session_id)
        assert live is not None
        assert live.interaction_id == call  # the newest call

        report = (await api.get(f"/interactions/{call}")).json()["cobrowse"]
        assert [s["session_id"] for s in report["sessions"]] == [session_id]
        unbound = (await api.get(f"/interactions/{older}")).json()["cobrowse"]
        assert unbound["session_count"] == 0

        # Ending the call through the API ends its co-browse session, for both (P2).
        assert (await api.post(f"/interactions/{call}/end")).status_code == 200
        told = await receive(agent)
        assert (told["t"], told["reason"]) == ("ended", "interaction_ended")
        assert await receive(customer) == told
        assert await closed_with(customer) == (protocol.CLOSE_ENDED, "interaction_ended")


async def test_an_ended_call_binds_nothing(
    deployment: Deployment, site_origin: str, agent_name: str, api: httpx.AsyncClient
) -> None:
    call = await created(api, "voice", agent_name)
    await api.post(f"/interactions/{call}/end")
    cookie = sign_in_cookie(deployment, agent_name)
    async with (
        customer_socket(deployment, site_origin) as customer,
        agent_socket(deployment, cookie) as agent,
    ):
        await hello(agent)
        session_id = await start(customer)
        await agent.send(json.dumps({"v": 1, "t": "join", "id": session_id}))
        assert (await receive(agent))["code"] == "no_interaction"


async def test_an_unknown_id_is_still_a_guess_not_a_missing_call(
    deployment: Deployment, agent_name: str
) -> None:
    async with agent_socket(deployment, sign_in_cookie(deployment, agent_name)) as agent:
        await hello(agent)
        await agent.send('{"v":1,"t":"join","id":"999999999"}')
        assert (await receive(agent))["code"] == "no_such_session"


# The chat rules, on the store (chats start sessions bound from their start). ------


async def test_a_chats_session_is_its_agents_only(database: Database) -> None:
    users = UserStore(database)
    for name in ("ann", "bob"):
        await users.add(name, UserRole.AGENT, "a-long-password")
    store = InteractionStore(database)
    binding = InteractionBinding(store, required=True)
    chat = await store.create(InteractionKind.CHAT, agent="ann")
    session = Session(id="123456789", site_id="shop", created_at=0.0, interaction_id=chat.id)

    assert await binding.for_join("ann", session) == chat.id
    with pytest.raises(Refusal) as other:
        await binding.for_join("bob", session)
    assert other.value.code == "not_your_interaction"
    assert "another agent's chat" in other.value.text

    await store.end(chat.id, "customer")
    with pytest.raises(Refusal) as ended:
        await binding.for_join("ann", session)
    assert ended.value.code == "interaction_ended"


async def test_without_the_requirement_an_agent_with_no_call_joins_unbound(
    database: Database,
) -> None:
    binding = InteractionBinding(InteractionStore(database), required=False)
    session = Session(id="123456789", site_id="shop", created_at=0.0)
    assert await binding.for_join("nobody", session) is None


# The console's own calls (/agent/api) -------------------------------------------------


@pytest.fixture
async def console(deployment: Deployment, agent_name: str) -> AsyncIterator[httpx.AsyncClient]:
    """The console page's fetches: the agent's cookie, from the server's own origin."""
    headers = {"Cookie": sign_in_cookie(deployment, agent_name), "Origin": deployment.url}
    async with httpx.AsyncClient(base_url=f"{deployment.url}/agent/api", headers=headers) as client:
        yield client


async def test_an_agent_registers_a_call_joins_on_it_and_ends_it_in_the_console(
    deployment: Deployment, site_origin: str, agent_name: str, console: httpx.AsyncClient
) -> None:
    assert (await console.get("/interactions")).json() == {"interactions": []}
    registered = await console.post("/calls", json={"customer_reference": "CRM-1"})
    assert registered.status_code == 201, registered.text
    call = registered.json()
    assert (call["kind"], call["customer_reference"]) == ("voice", "CRM-1")
    listed = (await console.get("/interactions")).json()["interactions"]
    assert [item["id"] for item in listed] == [call["id"]]

    cookie = console.headers["Cookie"]
    async with (
        customer_socket(deployment, site_origin) as customer,
        agent_socket(deployment, cookie) as agent,
    ):
        await hello(agent)
        session_id = await start(customer)
        await join(agent, customer, session_id)
        ended = await console.post(f"/interactions/{call['id']}/end")
        assert ended.json() == {"id": call["id"], "already_ended": False}
        told = await receive(agent)
        assert (told["t"], told["reason"]) == ("ended", "interaction_ended")
        assert await receive(customer) == told
    assert (await console.get("/interactions")).json() == {"interactions": []}
    again = await console.post(f"/interactions/{call['id']}/end")
    assert again.json() == {"id": call["id"], "already_ended": True}

    stored = await deployment.services.interactions.get(call["id"])
    assert stored.ended_by == f"agent:{agent_name}"


async def test_an_agent_cannot_end_another_agents_call(
    deployment: Deployment, console: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    other = deployment.add_agent(f"binding-agent-{next(_numbers)}")
    theirs = await created(api, "voice", other)
    refused = await console.post(f"/interactions/{theirs}/end")
    assert refused.status_code == 404
    assert refused.json()["error"] == "unknown_interaction"
    assert (await deployment.services.interactions.get(theirs)).state.value == "open"


async def test_calls_are_registered_from_the_console_page_only(
    deployment: Deployment, console: httpx.AsyncClient
) -> None:
    forged = await console.post("/calls", json={}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert forged.json()["error"] == "cross_site"
    too_long = await console.post("/calls", json={"customer_reference": "x" * 201})
    assert too_long.status_code == 422
    async with httpx.AsyncClient(base_url=f"{deployment.url}/agent/api") as anonymous:
        assert (await anonymous.get("/interactions")).status_code == 401
    assert (await console.get("/interactions")).json() == {"interactions": []}
