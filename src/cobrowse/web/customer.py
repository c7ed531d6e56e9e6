"""The customer's side: the script, its site check, and its WebSocket."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.core import protocol
from cobrowse.core.chat import ChatRefused
from cobrowse.core.resource_hosts import ResourcePolicy
from cobrowse.core.session import Refusal, Role, Session
from cobrowse.core.stream_filter import StreamFilter
from cobrowse.live.sessions import LiveSessions, describe
from cobrowse.proxy.reach import ProxyReach
from cobrowse.store.sites import SiteRecord
from cobrowse.web.peers import WebSocketPeer, refuse_bad_message, text_frames
from cobrowse.web.services import STATIC_DIST, Services, services_of

log = logging.getLogger("cobrowse.customer")


async def customer_script(request: Request) -> Response:
    return FileResponse(
        STATIC_DIST / "cobrowse.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


_REACH = ProxyReach()


async def customer_config(request: Request) -> Response:
    """Tell the script whether its page's origin is a registered site, which hosts the
    resource proxy fetches from (``proxied``, see proxy.reach): the script sends inline
    what the page can read of the rest, and what its widgets show: the site's support
    phone numbers (``phones``, for CallUs).

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
    proxied = await _REACH.proxied_hosts(site.resource_policy)
    phones = [
        {"number": phone.number, "label": phone.label, "tel": phone.tel} for phone in site.phones
    ]
    return JSONResponse(
        {
            "site": site.name,
            "proxied": [host.to_wire() for host in proxied],
            "phones": phones,
        },
        headers=cors,
    )


FILTER_IN_THREAD_BYTES = 32_768
"""Stream frames at least this long (full snapshots, big stylesheets) are filtered
off the event loop, so one page's snapshot does not stall every other session."""

_NO_RESOURCES = ResourcePolicy(origins=frozenset())


class CustomerStream:
    """One customer connection's stream, filtered for the agent (core.stream_filter).

    The node that receives the customer's frames filters them, with the session's
    resource token (the session this connection started or resumed carries it) and
    its site's resource policy, which the resource proxy caches for a few seconds,
    so a change of the site's hosts reaches live sessions without a query per frame.
    """

    def __init__(self, services: Services, session: Session) -> None:
        self._services = services
        self._site = session.site_id
        self._policy = _NO_RESOURCES
        self.filter = StreamFilter(session.id, session.resource_token, self._allows)

    def _allows(self, url: str) -> bool:
        return self._policy.allows(url)

    async def frame(self, message: protocol.Stream, frame: str) -> str | None:
        """The frame to relay in place of ``frame``, or None when nothing of it may."""
        # A site removed while the session is live allows nothing any more.
        self._policy = await self._services.resources.policy(self._site) or _NO_RESOURCES
        if len(frame) >= FILTER_IN_THREAD_BYTES:
            return await asyncio.to_thread(self._filtered, message.e)
        return self._filtered(message.e)

    def _filtered(self, raw: msgspec.Raw) -> str | None:
        try:
            event: Any = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return None
        kept = self.filter.event(event)
        if kept is None:
            return None
        return msgspec.json.encode({"v": 1, "t": "stream", "e": kept}).decode("utf-8")


async def _handle_customer_message(
    live: LiveSessions,
    session: Session,
    message: protocol.CustomerMessage,
    frame: str,
    stream: CustomerStream,
) -> None:
    match message:
        case protocol.Stream():
            filtered = await stream.frame(message, frame)
            if filtered is not None:
                await live.customer_frame(session.id, filtered)
        case protocol.Pointer():
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


async def _start(
    services: Services, site_name: str, message: protocol.Start, peer: WebSocketPeer
) -> Session | None:
    """A new session; with a chat (the web chat's Co-browse button), bound to that
    chat, whose agent is asked to join inside the chat. None when refused (the page
    was told why)."""
    if message.chat is None:
        return await services.live.start(site_name, peer)
    webchat = services.webchat
    try:
        chat = await webchat.cobrowse_allowed(site_name, message.chat, message.token or "")
    except ChatRefused as refusal:
        await peer.send(protocol.error(refusal.code, refusal.text))
        await peer.close(protocol.CLOSE_ENDED, refusal.code)
        return None
    session = await services.live.start(site_name, peer, interaction_id=chat.id)
    if await services.live.state.get(session.id) is None:
        return None  # the chat ended meanwhile, and its session with it
    await webchat.cobrowse_requested(chat, session.id)
    return session


async def accept_from_site(socket: WebSocket, services: Services, kind: str) -> SiteRecord | None:
    """Accept a socket of a registered site's page (its Origin says which site); any
    other origin is refused before the handshake completes (HTTP 403)."""
    origin = socket.headers.get("origin", "")
    site = await services.sites.site_for_origin(origin) if origin else None
    if site is None:
        log.warning(f"{kind} socket refused", extra={"origin": origin[:200]})
        await socket.close(code=protocol.CLOSE_FORBIDDEN_ORIGIN)
        return None
    await socket.accept()
    return site


async def customer_socket(socket: WebSocket) -> None:
    services = services_of(socket.app)
    site = await accept_from_site(socket, services, "customer")
    if site is None:
        return
    peer = WebSocketPeer(socket)
    live = services.live
    session: Session | None = None
    stream: CustomerStream | None = None
    try:
        async for frame in text_frames(socket):
            message = protocol.decode_customer(frame)
            if isinstance(message, protocol.Start | protocol.Resume):
                if session is not None:
                    raise protocol.BadMessage("This socket already has a session.")
                if isinstance(message, protocol.Start):
                    session = await _start(services, site.name, message, peer)
                    if session is None:
                        return
                else:
                    session = await _resume(live, site.name, message, peer)
                    if session is None:
                        return
                stream = CustomerStream(services, session)
                started = protocol.SessionStarted(
                    v=1, session=describe(session), resume=session.resume_token
                )
                await peer.send(protocol.encode(started))
                rules = (await services.restrictions.get(site.name)).to_wire()
                await peer.send(protocol.restrictions(rules))
                continue
            if session is None or stream is None:
                raise protocol.BadMessage("Start a session first.")
            try:
                await _handle_customer_message(live, session, message, frame, stream)
            except Refusal as refusal:
                await peer.send(protocol.error(refusal.code, refusal.text))
    except protocol.BadMessage as problem:
        await refuse_bad_message(peer, problem)
    except WebSocketDisconnect:
        pass
    finally:
        if session is not None:
            await live.customer_gone(session.id, peer)
