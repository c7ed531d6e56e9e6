"""The customer's side: the script, its site check, and its WebSocket."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.core import protocol
from cobrowse.core.session import Refusal, Role, Session
from cobrowse.live.sessions import LiveSessions, describe
from cobrowse.web.peers import WebSocketPeer, text_frames
from cobrowse.web.services import STATIC_DIST, services_of

log = logging.getLogger("cobrowse.customer")


async def customer_script(request: Request) -> Response:
    return FileResponse(
        STATIC_DIST / "cobrowse.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


async def customer_config(request: Request) -> Response:
    """Tell the script whether its page's origin is a registered site.

    The answer carries CORS headers even when it is a refusal, so the script can
    print the reason instead of a bare network error.
    """
    services = services_of(request.app)
    origin = request.headers.get("origin", "")
    cors = {"Access-Control-Allow-Origin": origin or "null", "Vary": "Origin"}
    site = await services.sites.site_for_origin(origin) if origin else None
    if site is None:
        return JSONResponse(
            {
                "error": "origin_not_registered",
                "text": f"The origin {origin or '(none)'} is not a registered cobrowse site.",
            },
            status_code=403,
            headers=cors,
        )
    return JSONResponse({"site": site.name}, headers=cors)


async def _handle_customer_message(
    live: LiveSessions, session: Session, message: protocol.CustomerMessage, frame: str
) -> None:
    match message:
        case protocol.Stream() | protocol.Pointer():
            await live.customer_frame(session.id, frame)
        case protocol.WriteAnswer(accepted=accepted):
            await live.answer_write_mode(session.id, accepted)
        case protocol.PointerMode():
            await live.choose_pointer_mode(session.id, Role.CUSTOMER, "customer")
        case protocol.Refused(code=code):
            await live.customer_refused(session.id, code, frame)
        case protocol.Exit():
            await live.exit(session.id, Role.CUSTOMER, "customer")


async def _resume(
    live: LiveSessions, site_name: str, message: protocol.Resume, peer: WebSocketPeer
) -> Session | None:
    """The next page of the tab takes the session over, or learns it is gone."""
    try:
        return await live.resume(message.id, message.token, site_name, peer)
    except Refusal as refusal:
        await peer.send(protocol.error(refusal.code, refusal.text))
        await peer.close(protocol.CLOSE_ENDED, refusal.code)
        return None


async def customer_socket(socket: WebSocket) -> None:
    services = services_of(socket.app)
    origin = socket.headers.get("origin", "")
    site = await services.sites.site_for_origin(origin) if origin else None
    if site is None:
        log.warning("customer socket refused", extra={"origin": origin[:200]})
        await socket.close(code=protocol.CLOSE_FORBIDDEN_ORIGIN)  # before accept: HTTP 403
        return
    await socket.accept()
    peer = WebSocketPeer(socket)
    live = services.live
    session: Session | None = None
    try:
        async for frame in text_frames(socket):
            message = protocol.decode_customer(frame)
            if isinstance(message, protocol.Start | protocol.Resume):
                if session is not None:
                    raise protocol.BadMessage("This socket already has a session.")
                if isinstance(message, protocol.Start):
                    session = await live.start(site.name, peer)
                else:
                    session = await _resume(live, site.name, message, peer)
                    if session is None:
                        return
                started = protocol.SessionStarted(
                    v=1, session=describe(session), resume=session.resume_token
                )
                await peer.send(protocol.encode(started))
                rules = (await services.restrictions.get(site.name)).to_wire()
                await peer.send(protocol.restrictions(rules))
                continue
            if session is None:
                raise protocol.BadMessage("Start a session first.")
            try:
                await _handle_customer_message(live, session, message, frame)
            except Refusal as refusal:
                await peer.send(protocol.error(refusal.code, refusal.text))
    except protocol.BadMessage as problem:
        await peer.send(protocol.error("bad_message", str(problem)))
        await peer.close(protocol.CLOSE_BAD_MESSAGE, str(problem))
    except WebSocketDisconnect:
        pass
    finally:
        if session is not None:
            await live.customer_gone(session.id, peer)
