"""The bare baseline: a WebSocket relay on the same stack as cobrowse, and nothing else.

Starlette on uvicorn, started with cobrowse's own :func:`cobrowse.server.uvicorn_config`
(so the same WebSocket implementation, event loop, frame size limit and
permessage-deflate default). Every text frame that arrives on ``/in`` is forwarded
to every socket connected to ``/out``: no envelope validation, no sessions, no
origin checks. ``/in/{pair}`` and ``/out/{pair}`` do the same per pair name, so many
independent sender/receiver pairs can share one relay (the load benchmark's
sessions). ``/sender`` and ``/receiver`` serve the two browser pages of the
page-to-page baseline.

Run on its own (the throughput benchmark does this, as a subprocess):
``python -m bench.bare_relay --port 8123``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.config import Settings
from cobrowse.server import uvicorn_config

PAGES = Path(__file__).parent / "pages"


def create_app() -> Starlette:
    # Receivers by pair name; the unnamed routes are the pair "".
    outs_by_pair: dict[str, set[WebSocket]] = {}

    async def inbound(socket: WebSocket) -> None:
        await socket.accept()
        outs = outs_by_pair.setdefault(socket.path_params.get("pair", ""), set())
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                frame = message.get("text")
                if frame is None:
                    continue
                for out in list(outs):
                    try:
                        await out.send_text(frame)
                    except (RuntimeError, OSError, WebSocketDisconnect):
                        outs.discard(out)
        except WebSocketDisconnect:
            return

    async def outbound(socket: WebSocket) -> None:
        await socket.accept()
        outs = outs_by_pair.setdefault(socket.path_params.get("pair", ""), set())
        outs.add(socket)
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        except WebSocketDisconnect:
            return
        finally:
            outs.discard(socket)

    def page(name: str) -> Route:
        body = (PAGES / name).read_text(encoding="utf-8")

        async def serve(request: Request) -> Response:
            return HTMLResponse(body, headers={"Cache-Control": "no-store"})

        return Route(f"/{name.removeprefix('bare-').removesuffix('.html')}", serve)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            WebSocketRoute("/in", inbound),
            WebSocketRoute("/out", outbound),
            WebSocketRoute("/in/{pair}", inbound),
            WebSocketRoute("/out/{pair}", outbound),
            page("bare-sender.html"),
            page("bare-receiver.html"),
        ]
    )


def config(port: int) -> uvicorn.Config:
    """Exactly the uvicorn settings cobrowse runs with (default Settings)."""
    return uvicorn_config(create_app(), Settings(), "127.0.0.1", port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.Server(config(args.port)).run()


if __name__ == "__main__":
    main()
