"""The built-in web chat over real sockets: the customer's /ws/chat, the console's
chat frames, and a co-browse session bound to the chat (issue 4)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from cobrowse.store.models import AuditEvent
from tests.integration.conftest import agent_socket, customer_socket
from tests.integration.test_admin import audit_where
from tests.integration.test_sockets import closed_with, hello, receive
from tests.support import Deployment, Server, sign_in_cookie

INTERACTION_ENDED_TEXT = (
    "The chat or call this co-browse session belonged to ended, so the co-browse session ended too."
)


def chat_socket(server: Server, origin: str) -> connect:
    return connect(f"{server.ws_url}/ws/chat", origin=origin, proxy=None)  # type: ignore[arg-type]


async def send(socket: ClientConnection, **frame: object) -> None:
    await socket.send(json.dumps({"v": 1, **frame}))


async def next_of(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of this type (others, such as chat lists, are passed over)."""
    while True:
        frame = await receive(socket)
        if frame["t"] == kind:
            return frame


async def next_of_any(socket: ClientConnection, *kinds: str) -> dict[str, Any]:
    while True:
        frame = await receive(socket)
        if frame["t"] in kinds:
            return frame


async def next_message(socket: ClientConnection, sender: str) -> dict[str, Any]:
    """The next chat message from ``sender`` (each side also gets its own, echoed)."""
    while True:
        frame = await next_of(socket, "chat_message")
        if frame["message"]["sender"] == sender:
            return frame


async def cobrowse_request(socket: ClientConnection) -> dict[str, Any]:
    """The next message of the chat that asks the agent to co-browse."""
    while True:
        frame = await next_message(socket, "system")
        if frame["message"]["session"] is not None:
            return frame


async def start_chat(
    chat: ClientConnection, name: str = "Ada", text: str = "Hello, my order is late."
) -> dict[str, Any]:
    await send(chat, t="chat_start", name=name, text=text)
    started = await receive(chat)
    assert started["t"] == "chat"
    assert started["state"] == "queued"
    assert started["agent"] is None
    assert isinstance(started["token"], str)
    assert len(started["token"]) >= 20
    assert [m["text"] for m in started["messages"]] == [text]
    return started


async def accept(agent: ClientConnection, chat_id: str) -> dict[str, Any]:
    await send(agent, t="chat_accept", id=chat_id)
    history = await next_of(agent, "chat_history")
    assert history["chat"]["id"] == chat_id
    return history


async def test_chat_waits_in_queue_then_messages_flow_both_ways(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
    ):
        await hello(agent)
        started = await start_chat(chat)
        chat_id = started["id"]

        await send(agent, t="chat_list")
        lists = await next_of(agent, "chats")
        waiting = [entry for entry in lists["queue"] if entry["id"] == chat_id]
        assert waiting
        assert waiting[0]["customer"] == "Ada"
        assert waiting[0]["site"] == "shop"
        assert all(entry["id"] != chat_id for entry in lists["mine"])

        history = await accept(agent, chat_id)
        assert next(m["text"] for m in history["messages"]) == "Hello, my order is late."
        accepted = await next_of(chat, "chat_accepted")
        agent_name = accepted["agent"]
        joined = await next_of(chat, "chat_message")
        assert joined["message"] == {**joined["message"], "sender": "system"}
        assert joined["message"]["text"] == f"{agent_name} joined the chat."

        await send(agent, t="chat_reply", id=chat_id, text="Let me look that up.")
        said = await next_message(chat, "agent")
        assert said["message"]["sender"] == "agent"
        assert said["message"]["author"] == agent_name
        assert said["message"]["text"] == "Let me look that up."

        await send(chat, t="chat_say", text="Thanks!")
        heard = await next_message(agent, "customer")
        assert heard["id"] == chat_id
        assert heard["message"]["sender"] == "customer"
        assert heard["message"]["text"] == "Thanks!"

        await send(agent, t="chat_list")
        lists = await next_of(agent, "chats")
        assert [entry["id"] for entry in lists["mine"]] == [chat_id]
        assert all(entry["id"] != chat_id for entry in lists["queue"])


async def test_two_agents_accepting_at_once_exactly_one_wins(
    deployment: Deployment, site_origin: str
) -> None:
    cookies = [sign_in_cookie(deployment, deployment.add_agent(f"racer-{n}")) for n in range(2)]
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, cookies[0]) as first,
        agent_socket(deployment, cookies[1]) as second,
    ):
        await hello(first)
        await hello(second)
        chat_id = (await start_chat(chat))["id"]
        await asyncio.gather(
            send(first, t="chat_accept", id=chat_id), send(second, t="chat_accept", id=chat_id)
        )
        answers = [await next_of_any(agent, "chat_history", "error") for agent in (first, second)]
        kinds = sorted(answer["t"] for answer in answers)
        assert kinds == ["chat_history", "error"]
        refused = next(answer for answer in answers if answer["t"] == "error")
        assert refused["code"] == "chat_taken"
        assert refused["text"] == "Another agent accepted this chat first."
        winner = next(answer for answer in answers if answer["t"] == "chat_history")
        assert (await next_of(chat, "chat_accepted"))["agent"] == winner["chat"]["agent"]


async def test_chat_resumes_with_its_token_and_refuses_a_wrong_one(
    deployment: Deployment, site_origin: str
) -> None:
    async with chat_socket(deployment, site_origin) as first_page:
        started = await start_chat(first_page, text="First page")
        await send(first_page, t="chat_say", text="Still there?")
        await next_of(first_page, "chat_message")
    async with chat_socket(deployment, site_origin) as next_page:
        await send(next_page, t="chat_resume", id=started["id"], token=started["token"])
        resumed = await receive(next_page)
        assert resumed["t"] == "chat"
        assert resumed["state"] == "queued"
        assert resumed.get("token") is None
        assert [m["text"] for m in resumed["messages"]] == ["First page", "Still there?"]
    async with chat_socket(deployment, site_origin) as forger:
        await send(forger, t="chat_resume", id=started["id"], token="not-the-token")
        refused = await receive(forger)
        assert refused["t"] == "error"
        assert refused["code"] == "no_such_chat"
        assert await closed_with(forger) == (4000, "no_such_chat")


async def test_chat_socket_refuses_unregistered_origin(deployment: Deployment) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with chat_socket(deployment, "http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_message_too_long_is_refused(deployment: Deployment, site_origin: str) -> None:
    async with chat_socket(deployment, site_origin) as chat:
        await start_chat(chat)
        await send(chat, t="chat_say", text="x" * 2001)
        refused = await receive(chat)
        assert refused["t"] == "error"
        assert refused["code"] == "bad_message"


async def chat_with_cobrowse(
    deployment: Deployment, site_origin: str, agent: ClientConnection, chat: ClientConnection
) -> tuple[str, str, ClientConnection]:
    """A chat accepted by ``agent``, a co-browse session bound to it, joined with one
    click (the ID the request in the chat carries). Returns chat ID, session ID and
    the customer's co-browse socket."""
    started = await start_chat(chat)
    chat_id = started["id"]
    await accept(agent, chat_id)
    page = await customer_socket(deployment, site_origin)
    await send(page, t="start", chat=chat_id, token=started["token"])
    session = await next_of(page, "session")
    session_id = session["session"]["id"]
    request = await cobrowse_request(agent)
    assert request["id"] == chat_id
    assert request["message"]["sender"] == "system"
    assert request["message"]["session"] == session_id
    assert (await cobrowse_request(chat))["message"]["session"] == session_id
    await send(agent, t="join", id=request["message"]["session"])
    assert (await next_of(agent, "joined"))["session"]["id"] == session_id
    await next_of(page, "agent_joined")
    return chat_id, session_id, page


async def test_customer_ending_the_chat_ends_its_cobrowse_session(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
    ):
        await hello(agent)
        chat_id, _, page = await chat_with_cobrowse(deployment, site_origin, agent, chat)
        await send(chat, t="chat_end")
        ended = await next_of(chat, "chat_ended")
        assert ended == {
            "v": 1,
            "t": "chat_ended",
            "id": chat_id,
            "by": "customer",
            "text": "You ended the chat.",
        }
        page_ended = await next_of(page, "ended")
        assert page_ended["reason"] == "interaction_ended"
        assert page_ended["text"] == INTERACTION_ENDED_TEXT
        assert await closed_with(page) == (4000, "interaction_ended")
        console_ended = await next_of(agent, "ended")
        assert console_ended["reason"] == "interaction_ended"
        told = await next_of(agent, "chat_ended")
        assert told["text"] == "The customer ended the chat."
        # The end is audited once it is done, which is after both sides were told.
        for _ in range(50):
            audited = await audit_where(
                deployment, AuditEvent.kind.in_(["chat_accepted", "chat_ended"])
            )
            mine = [
                (kind, actor)
                for kind, actor, detail in audited
                if detail == {"interaction": chat_id}
            ]
            if len(mine) == 2:
                break
            await asyncio.sleep(0.1)
        assert mine[0][0] == "chat_accepted"
        assert mine[1:] == [("chat_ended", "customer")]


async def test_agent_ending_the_chat_ends_its_cobrowse_session(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
    ):
        await hello(agent)
        chat_id, _, page = await chat_with_cobrowse(deployment, site_origin, agent, chat)
        await send(agent, t="chat_end", id=chat_id)
        page_ended = await next_of(page, "ended")
        assert page_ended["reason"] == "interaction_ended"
        assert (await next_of(agent, "ended"))["reason"] == "interaction_ended"
        assert (await next_of(agent, "chat_ended"))["text"] == "You ended the chat."
        told = await next_of(chat, "chat_ended")
        assert told["by"] == "agent"
        assert told["text"] == "The agent ended the chat."
        # An ended chat takes no more messages, and resuming it says it has ended.
        await send(chat, t="chat_say", text="Hello?")
        assert (await next_of(chat, "error"))["code"] == "chat_ended"


async def test_cobrowse_with_a_wrong_chat_token_is_refused(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
    ):
        await hello(agent)
        chat_id = (await start_chat(chat))["id"]
        await accept(agent, chat_id)
        async with customer_socket(deployment, site_origin) as page:
            await send(page, t="start", chat=chat_id, token="guessed")
            refused = await receive(page)
            assert refused["t"] == "error"
            assert refused["code"] == "no_such_chat"
            assert await closed_with(page) == (4000, "no_such_chat")


async def test_cobrowse_waits_for_an_agent_to_accept(
    deployment: Deployment, site_origin: str
) -> None:
    async with chat_socket(deployment, site_origin) as chat:
        started = await start_chat(chat)
        async with customer_socket(deployment, site_origin) as page:
            await send(page, t="start", chat=started["id"], token=started["token"])
            refused = await receive(page)
            assert refused["code"] == "no_agent"


async def test_only_the_chats_agent_may_join_its_cobrowse_session(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    other_cookie = sign_in_cookie(deployment, deployment.add_agent("not-the-chats-agent"))
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
        agent_socket(deployment, other_cookie) as other,
    ):
        await hello(agent)
        await hello(other)
        started = await start_chat(chat)
        await accept(agent, started["id"])
        async with customer_socket(deployment, site_origin) as page:
            await send(page, t="start", chat=started["id"], token=started["token"])
            session_id = (await next_of(page, "session"))["session"]["id"]
            await send(other, t="join", id=session_id)
            refused = await next_of(other, "error")
            assert refused["code"] == "not_your_interaction"
            await send(agent, t="join", id=session_id)
            assert (await next_of(agent, "joined"))["session"]["id"] == session_id


async def test_a_chat_ended_through_the_api_is_ended_for_both_sides(
    deployment: Deployment, site_origin: str, agent_cookie: str, api_key: str
) -> None:
    async with (
        chat_socket(deployment, site_origin) as chat,
        agent_socket(deployment, agent_cookie) as agent,
    ):
        await hello(agent)
        chat_id, _, page = await chat_with_cobrowse(deployment, site_origin, agent, chat)
        async with httpx.AsyncClient(base_url=deployment.url) as client:
            ended = await client.post(
                f"/api/v1/interactions/{chat_id}/end",
                headers={"Authorization": f"Bearer {api_key}"},
            )
        assert ended.status_code == 200, ended.text
        assert (await next_of(page, "ended"))["reason"] == "interaction_ended"
        told = await next_of(chat, "chat_ended")
        assert told["by"] == "system"
        assert told["text"] == "The chat has ended."
        assert (await next_of(agent, "chat_ended"))["text"] == "The chat has ended."


async def test_a_chat_belongs_to_its_site(deployment: Deployment, site_origin: str) -> None:
    other_origin = "http://other-site.example"
    deployment.add_site("other-site", [other_origin])
    async with chat_socket(deployment, site_origin) as chat:
        started = await start_chat(chat)
        async with chat_socket(deployment, other_origin) as elsewhere:
            await send(elsewhere, t="chat_resume", id=started["id"], token=started["token"])
            assert (await receive(elsewhere))["code"] == "no_such_chat"
            assert await closed_with(elsewhere) == (4000, "no_such_chat")
        async with customer_socket(deployment, other_origin) as page:
            await send(page, t="start", chat=started["id"], token=started["token"])
            assert (await receive(page))["code"] == "no_such_chat"
