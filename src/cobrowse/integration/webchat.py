"""The built-in web chat (issue 4): a customer chats with an agent, and can start a
co-browse session bound to the chat from inside it.

Every change goes through the store first, then is told to the parties through the
:class:`ChatHub` (so it reaches them on any node). Creating and ending a chat goes
through the :class:`InteractionLifecycle`: webhooks fire, and ending the chat ends
its live co-browse sessions with the reason ``interaction_ended``.

Chat text is never logged.
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

from cobrowse.core import protocol
from cobrowse.core.chat import (
    AGENT_ENDER_PREFIX,
    CUSTOMER_ENDER,
    ChatRefused,
    Sender,
    clean_name,
    clean_text,
    ended_by_side,
    ended_text,
)
from cobrowse.core.interactions import InteractionKind
from cobrowse.integration.interactions import InteractionLifecycle
from cobrowse.live.chat_hub import ChatHub
from cobrowse.store.chats import Chat, ChatMessage, ChatStore
from cobrowse.store.interactions import Interaction

log = logging.getLogger("cobrowse.chat")


def _spaced(session_id: str) -> str:
    return " ".join(session_id[i : i + 3] for i in range(0, len(session_id), 3))


class Audit(Protocol):
    async def record(
        self, kind: str, actor: str, session_id: str | None = None, **detail: str | int | None
    ) -> None: ...


class WebChat:
    def __init__(
        self,
        store: ChatStore,
        lifecycle: InteractionLifecycle,
        hub: ChatHub,
        audit: Audit | None = None,
    ) -> None:
        self.store = store
        self._lifecycle = lifecycle
        self.hub = hub
        self._audit = audit

    # The customer ---------------------------------------------------------------------

    async def start(self, site: str, name: str | None, text: str | None) -> tuple[Chat, str]:
        """A new chat, waiting in the queue; returns it and the customer's token."""
        first = clean_text(text) if text is not None and text.strip() else None
        customer_name = clean_name(name)
        interaction = await self._lifecycle.create(
            InteractionKind.CHAT, None, customer_reference=customer_name, site=site
        )
        token = await self.store.open_chat(interaction.id, customer_name)
        if first is not None:
            await self.store.add_message(interaction.id, Sender.CUSTOMER, customer_name, first)
        log.info("chat started", extra={"interaction": interaction.id, "site": site})
        chat = await self.store.get(interaction.id)
        assert chat is not None
        return chat, token

    async def state(self, chat: Chat, token: str | None = None) -> str:
        """The chat as its customer sees it: state and messages."""
        messages = [message.to_wire() for message in await self.store.messages(chat.id)]
        state: Literal["queued", "active", "ended"]
        if not chat.is_open:
            state = "ended"
        elif chat.agent is None:
            state = "queued"
        else:
            state = "active"
        notice = protocol.ChatNotice(
            v=1, id=chat.id, state=state, agent=chat.agent, messages=messages, token=token
        )
        return protocol.encode(notice)

    async def customer_says(self, chat_id: str, text: str) -> None:
        chat = await self._open(chat_id)
        message = await self.store.add_message(
            chat.id, Sender.CUSTOMER, chat.customer_name, clean_text(text)
        )
        await self._publish(chat, message)

    async def cobrowse_allowed(self, site: str, chat_id: str, token: str) -> Chat:
        """The chat a co-browse session may be bound to: this customer's (the token),
        of this site, open, and accepted by an agent."""
        chat = await self.store.owned(chat_id, token)
        if chat is None or chat.site != site:
            raise ChatRefused("no_such_chat", "This chat is not known here.")
        if not chat.is_open:
            raise ChatRefused("chat_ended", "This chat has ended.")
        if chat.agent is None:
            raise ChatRefused("no_agent", "Wait for an agent to accept the chat first.")
        return chat

    async def cobrowse_requested(self, chat: Chat, session_id: str) -> None:
        """A co-browse session bound to the chat started: the agent sees the request
        inside the chat, with its ID to join with one click."""
        text = f"The customer asked to co-browse (session {_spaced(session_id)})."
        message = await self.store.add_message(
            chat.id, Sender.SYSTEM, None, text, session_id=session_id
        )
        await self._publish(chat, message)

    # The agent ------------------------------------------------------------------------

    async def lists(self, agent: str) -> str:
        queue = [chat.to_wire() for chat in await self.store.queue()]
        mine = [chat.to_wire() for chat in await self.store.of_agent(agent)]
        return protocol.encode(protocol.ChatsNotice(v=1, queue=queue, mine=mine))

    async def history(self, agent: str, chat_id: str) -> str:
        chat = await self.store.get(chat_id)
        if chat is None or chat.agent != agent:
            raise ChatRefused("not_your_chat", "This chat is not yours.")
        messages = [message.to_wire() for message in await self.store.messages(chat.id)]
        notice = protocol.ChatHistoryNotice(v=1, chat=chat.to_wire(), messages=messages)
        return protocol.encode(notice)

    async def accept(self, agent: str, chat_id: str) -> Chat:
        chat = await self.store.accept(chat_id, agent)
        log.info("chat accepted", extra={"interaction": chat.id, "agent": agent})
        if self._audit is not None:
            await self._audit.record("chat_accepted", agent, None, interaction=chat.id)
        accepted = protocol.ChatAccepted(v=1, id=chat.id, agent=agent)
        await self.hub.to_customer(chat.id, protocol.encode(accepted))
        message = await self.store.add_message(
            chat.id, Sender.SYSTEM, None, f"{agent} joined the chat."
        )
        await self._publish(chat, message)
        return chat

    async def agent_says(self, agent: str, chat_id: str, text: str) -> None:
        chat = await self._open(chat_id)
        if chat.agent != agent:
            raise ChatRefused("not_your_chat", "This chat is not yours.")
        message = await self.store.add_message(chat.id, Sender.AGENT, agent, clean_text(text))
        await self._publish(chat, message)

    # Either side ----------------------------------------------------------------------

    async def end(self, chat_id: str, by_customer: bool, agent: str | None = None) -> None:
        """End the chat, its live co-browse sessions with it (``interaction_ended``);
        both sides are told in words (:meth:`interaction_closed`). An agent may end
        only its own chats."""
        chat = await self.store.get(chat_id)
        if chat is None:
            raise ChatRefused("no_such_chat", "There is no such chat.")
        if not by_customer and chat.agent != agent:
            raise ChatRefused("not_your_chat", "This chat is not yours.")
        ended_by = CUSTOMER_ENDER if by_customer else f"{AGENT_ENDER_PREFIX}{agent}"
        ending, _ = await self._lifecycle.end(chat.id, ended_by)
        if ending.ended_now and self._audit is not None:
            actor = CUSTOMER_ENDER if by_customer else str(agent)
            await self._audit.record("chat_ended", actor, None, interaction=chat.id)

    async def interaction_closed(self, interaction: Interaction, ended_by: str) -> None:
        """Any interaction ended, here or through the integration API or the console's
        calls endpoints: a chat's two sides are told who ended it, in words."""
        if interaction.kind is not InteractionKind.CHAT:
            return
        side = ended_by_side(ended_by)
        to_customer = ended_text(side, reader_is_customer=True)
        notice = protocol.ChatEnded(v=1, id=interaction.id, by=side, text=to_customer)
        await self.hub.to_customer(interaction.id, protocol.encode(notice))
        if interaction.agent is not None:
            to_agent = ended_text(side, reader_is_customer=False)
            notice = protocol.ChatEnded(v=1, id=interaction.id, by=side, text=to_agent)
            await self.hub.to_agent(interaction.agent, protocol.encode(notice))

    async def _open(self, chat_id: str) -> Chat:
        chat = await self.store.get(chat_id)
        if chat is None:
            raise ChatRefused("no_such_chat", "There is no such chat.")
        if not chat.is_open:
            raise ChatRefused("chat_ended", "This chat has ended.")
        return chat

    async def _publish(self, chat: Chat, message: ChatMessage) -> None:
        frame = protocol.encode(
            protocol.ChatMessageNotice(v=1, id=chat.id, message=message.to_wire())
        )
        await self.hub.to_customer(chat.id, frame)
        if chat.agent is not None:
            await self.hub.to_agent(chat.agent, frame)
