"""Where the web chat's customer sockets are held, and how a chat frame reaches a
party on any node of a cluster.

A customer's chat socket is the fan-out target ``h:<interaction id>``, held by the
node the socket is connected to; an agent's console is the live layer's
``k:<agent>``. Frames to a party held here are sent directly; the others travel
through the same fan-out as the co-browse frames (one Redis directory, one channel
per node). The hub wraps the live layer's ``deliver``: what a node receives for an
``h:`` target is handled here, everything else by the live layer.
"""

from __future__ import annotations

import logging

from cobrowse.core import protocol
from cobrowse.live.fanout import FRAME, REPLACED
from cobrowse.live.sessions import LiveSessions, Peer

log = logging.getLogger("cobrowse.chat")


def chat_target(chat_id: str) -> str:
    return f"h:{chat_id}"


class ChatHub:
    def __init__(self, live: LiveSessions) -> None:
        self._live = live
        self._customers: dict[str, Peer] = {}
        """chat ID -> the customer's chat socket connected to this node."""

    async def customer_connected(self, chat_id: str, peer: Peer) -> None:
        """This socket speaks for the chat now; an older one (the tab's previous page,
        here or on another node) is let go."""
        previous = self._customers.get(chat_id)
        self._customers[chat_id] = peer
        if previous is not None and previous is not peer:
            await previous.close(protocol.CLOSE_REPLACED, "Another page took the chat over.")
        await self._live.fanout.attach(chat_target(chat_id))

    async def customer_gone(self, chat_id: str, peer: Peer) -> None:
        if self._customers.get(chat_id) is not peer:
            return  # replaced by a newer page
        del self._customers[chat_id]
        await self._live.fanout.detach(chat_target(chat_id))

    async def to_customer(self, chat_id: str, frame: str) -> None:
        """To the chat's customer socket, wherever it is; dropped when it has none
        (the customer gets the history when the next page connects)."""
        peer = self._customers.get(chat_id)
        if peer is not None:
            await peer.send(frame)
        else:
            await self._live.fanout.route(chat_target(chat_id), FRAME, frame)

    async def to_agent(self, agent_id: str, frame: str) -> None:
        await self._live.to_console(agent_id, frame)

    async def deliver(self, target: str, kind: str, payload: str) -> None:
        """What the fan-out routed to this node: chat targets here, the rest to the
        live layer."""
        role, _, key = target.partition(":")
        if role != "h":
            await self._live.deliver(target, kind, payload)
            return
        peer = self._customers.get(key)
        if peer is None:
            return
        if kind == FRAME:
            await peer.send(payload)
        elif kind == REPLACED:
            del self._customers[key]
            await peer.close(protocol.CLOSE_REPLACED, "Another page took the chat over.")
