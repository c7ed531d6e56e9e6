"""The web chat's sockets: the customer's ``/ws/chat``, and the chat frames of the
agent console's socket.

The customer's socket is checked like ``/ws/customer``: its Origin must be one of a
registered site's. It speaks for one chat: started on it, or resumed with the chat's
ID and token (the tab keeps them in sessionStorage, so the chat follows the tab
through full page loads). Chat text is never logged.
"""

from __future__ import annotations

import logging
import time

from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.core import protocol
from cobrowse.core.chat import ChatRefused, MessageRate
from cobrowse.live.sessions import Peer
from cobrowse.store.chats import Chat
from cobrowse.web.customer import accept_from_site
from cobrowse.web.peers import WebSocketPeer, refuse_bad_message, text_frames
from cobrowse.web.services import Services, services_of

log = logging.getLogger("cobrowse.chat")

MAX_CHAT_FRAME_CHARACTERS = 8192
"""A chat frame carries at most one 2,000-character message: anything longer is not ours."""


async def chat_socket(socket: WebSocket) -> None:
    services = services_of(socket.app)
    site = await accept_from_site(socket, services, "chat")
    if site is None:
        return
    webchat = services.webchat
    peer = WebSocketPeer(socket)
    chat: Chat | None = None
    rate = MessageRate()
    try:
        async for frame in text_frames(socket):
            if len(frame) > MAX_CHAT_FRAME_CHARACTERS:
                raise protocol.BadMessage("A chat frame is at most 8 KB.")
            message = protocol.decode_chat(frame)
            try:
                match message:
                    case protocol.ChatStart(name=name, text=text):
                        if chat is not None:
                            raise protocol.BadMessage("This socket already has a chat.")
                        chat, token = await webchat.start(site.name, name, text)
                        await webchat.hub.customer_connected(chat.id, peer)
                        await peer.send(await webchat.state(chat, token))
                    case protocol.ChatResume(id=chat_id, token=token):
                        if chat is not None:
                            raise protocol.BadMessage("This socket already has a chat.")
                        owned = await webchat.store.owned(chat_id, token)
                        if owned is None or owned.site != site.name:
                            await peer.send(protocol.error("no_such_chat", "This chat has ended."))
                            await peer.close(protocol.CLOSE_ENDED, "no_such_chat")
                            return
                        await peer.send(await webchat.state(owned))
                        if not owned.is_open:
                            await peer.close(protocol.CLOSE_ENDED, "chat_ended")
                            return
                        chat = owned
                        await webchat.hub.customer_connected(chat.id, peer)
                    case protocol.ChatSay(text=text):
                        if chat is None:
                            raise protocol.BadMessage("Start a chat first.")
                        if not rate.allows(time.monotonic()):
                            raise ChatRefused(
                                "too_fast", "You are sending messages too fast; wait a moment."
                            )
                        await webchat.customer_says(chat.id, text)
                    case protocol.CustomerChatEnd():
                        if chat is None:
                            raise protocol.BadMessage("Start a chat first.")
                        await webchat.end(chat.id, by_customer=True)
            except ChatRefused as refusal:
                await peer.send(protocol.error(refusal.code, refusal.text))
    except protocol.BadMessage as problem:
        await refuse_bad_message(peer, problem)
    except WebSocketDisconnect:
        pass
    finally:
        if chat is not None:
            await webchat.hub.customer_gone(chat.id, peer)


async def agent_chat_frame(
    services: Services, agent_id: str, peer: Peer, message: protocol.AgentMessage
) -> None:
    """A chat frame of the agent console's socket; ChatRefused says why one is refused."""
    webchat = services.webchat
    match message:
        case protocol.ChatList():
            await peer.send(await webchat.lists(agent_id))
        case protocol.ChatAccept(id=chat_id):
            await webchat.accept(agent_id, chat_id)
            await peer.send(await webchat.history(agent_id, chat_id))
        case protocol.ChatOpen(id=chat_id):
            await peer.send(await webchat.history(agent_id, chat_id))
        case protocol.ChatReply(id=chat_id, text=text):
            await webchat.agent_says(agent_id, chat_id, text)
        case protocol.AgentChatEnd(id=chat_id):
            await webchat.end(chat_id, by_customer=False, agent=agent_id)
