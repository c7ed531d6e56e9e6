"""The agent's side: sign-in, the console page, and the console's WebSocket."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.core import protocol
from cobrowse.core.chat import ChatRefused
from cobrowse.core.origins import normalize_origin
from cobrowse.core.session import Refusal, Role
from cobrowse.live.sessions import Peer, describe
from cobrowse.web.chat import agent_chat_frame
from cobrowse.web.pages import console_page
from cobrowse.web.peers import WebSocketPeer, refuse_bad_message, text_frames
from cobrowse.web.security import CONSOLE_CSP, is_same_origin
from cobrowse.web.services import Services, services_of
from cobrowse.web.sign_in import ConsoleSignIn

log = logging.getLogger("cobrowse.agent")

SIGN_IN = ConsoleSignIn(
    title="Agent console",
    home="/agent",
    cookie="cobrowse_agent",
    cookie_path="/",  # the console's socket is /ws/agent
    csp=CONSOLE_CSP,
    role=None,  # administrators may use the agent console too
)


async def console(request: Request) -> Response:
    account = await SIGN_IN.account(request)
    if account is None:
        return SIGN_IN.form()
    return SIGN_IN.page(console_page(account.username))


async def _refuse_other_sites(services: Services, agent_id: str, url: str) -> None:
    """An agent may open pages of the customer's website only (M2): checked here as
    well as in the customer's browser. A refusal is audited like any other."""
    own = await services.live.own_session(agent_id)
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc and url.startswith("/"):
        return  # a path: the customer's browser resolves it on the page's own origin
    try:
        origin = normalize_origin(urlunsplit((*urlsplit(url)[:2], "", "", "")))
    except ValueError:
        origin = ""
    site = await services.sites.site_for_origin(origin) if origin else None
    if site is None or site.name != own.site_id:
        await services.live.action_refused(agent_id, own.id, "cross_site")
        raise Refusal("cross_site", "Only pages of the customer's website can be opened.")


async def _handle_agent_frame(services: Services, agent_id: str, peer: Peer, frame: str) -> None:
    live = services.live
    message = protocol.decode_agent(frame)
    match message:
        case protocol.Pointer() | protocol.Click():
            await live.agent_frame(agent_id, frame)
        case protocol.Act(a="navigate", nav="url", url=url):
            await _refuse_other_sites(services, agent_id, url or "")
            await live.agent_action(agent_id, frame)
        case protocol.Act():
            await live.agent_action(agent_id, frame)
        case protocol.Join(id=typed_id):
            session = await live.join(agent_id, typed_id)
            await peer.send(protocol.encode(protocol.Joined(v=1, session=describe(session))))
        case protocol.RequestWrite():
            await live.request_write_mode(agent_id)
        case protocol.PointerMode():
            own = await live.own_session(agent_id)
            await live.choose_pointer_mode(own.id, Role.AGENT, agent_id)
        case protocol.Exit():
            own = await live.own_session(agent_id)
            await live.exit(own.id, Role.AGENT, agent_id)
        case (
            protocol.ChatList()
            | protocol.ChatAccept()
            | protocol.ChatOpen()
            | protocol.ChatReply()
            | protocol.AgentChatEnd()
        ):
            await agent_chat_frame(services, agent_id, peer, message)


async def agent_socket(socket: WebSocket) -> None:
    # Cross-site WebSocket hijacking: the cookie would ride along from any site, so
    # only pages of this server may open the console socket.
    if not is_same_origin(socket.headers):
        await socket.close(code=protocol.CLOSE_FORBIDDEN_ORIGIN)
        return
    account = await SIGN_IN.account(socket)
    await socket.accept()
    if account is None:
        await socket.close(code=protocol.CLOSE_UNAUTHENTICATED, reason="Sign in again.")
        return
    services = services_of(socket.app)
    live = services.live
    agent_id = account.username
    peer = WebSocketPeer(socket)
    try:
        current = await live.console_connected(agent_id, peer)
        info = describe(current) if current else None
        await peer.send(protocol.encode(protocol.Hello(v=1, agent=agent_id, session=info)))
        async for frame in text_frames(socket):
            try:
                await _handle_agent_frame(services, agent_id, peer, frame)
            except (Refusal, ChatRefused) as refusal:
                await peer.send(protocol.error(refusal.code, refusal.text))
    except protocol.BadMessage as problem:
        await refuse_bad_message(peer, problem)
    except WebSocketDisconnect:
        pass
    finally:
        await live.console_gone(agent_id, peer)
