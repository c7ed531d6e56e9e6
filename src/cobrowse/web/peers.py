"""A browser's WebSocket as the live layer's :class:`~cobrowse.live.sessions.Peer`."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from cobrowse.core import protocol


async def text_frames(socket: WebSocket) -> AsyncIterator[str]:
    """The text frames a browser sends, until it disconnects.

    A binary frame is a protocol error: every message of ours is JSON text.
    """
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        frame = message.get("text")
        if frame is None:
            raise protocol.BadMessage("Frames must be text (JSON).")
        yield frame


class WebSocketPeer:
    def __init__(self, socket: WebSocket) -> None:
        self._socket = socket

    async def send(self, frame: str) -> None:
        # A socket that went away is cleaned up by its own receive loop; a send to it
        # must not fail the sender's loop (which may belong to the other party).
        if self._socket.application_state is not WebSocketState.CONNECTED:
            return
        try:
            await self._socket.send_text(frame)
        except (RuntimeError, OSError, WebSocketDisconnect):
            return

    async def close(self, code: int, reason: str) -> None:
        if self._socket.application_state is not WebSocketState.CONNECTED:
            return
        try:
            await self._socket.close(code=code, reason=reason[:120])
        except (RuntimeError, OSError, WebSocketDisconnect):
            return


async def refuse_bad_message(peer: WebSocketPeer, problem: protocol.BadMessage) -> None:
    """A frame broke the protocol: say what was wrong, then close the socket (4400)."""
    await peer.send(protocol.error("bad_message", str(problem)))
    await peer.close(protocol.CLOSE_BAD_MESSAGE, str(problem))
