"""The agent's side: sign-in, the console page, and the console's WebSocket."""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from cobrowse.core import protocol
from cobrowse.core.origins import normalize_origin
from cobrowse.core.session import Refusal, Role
from cobrowse.live.sessions import Peer, describe
from cobrowse.store.users import Account
from cobrowse.web.pages import console_page, sign_in_page
from cobrowse.web.peers import WebSocketPeer, text_frames
from cobrowse.web.security import CONSOLE_CSP, is_same_origin
from cobrowse.web.services import Services, services_of

log = logging.getLogger("cobrowse.agent")

COOKIE = "cobrowse_agent"
_PAGE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


async def signed_in_account(connection: HTTPConnection) -> Account | None:
    token = connection.cookies.get(COOKIE)
    if not token:
        return None
    return await services_of(connection.app).users.account_for_token(token)


async def console(request: Request) -> Response:
    account = await signed_in_account(request)
    if account is None:
        return HTMLResponse(sign_in_page(), headers=_PAGE_HEADERS)
    return HTMLResponse(console_page(html.escape(account.username)), headers=_PAGE_HEADERS)


async def sign_in(request: Request) -> Response:
    if not is_same_origin(request.headers):
        return HTMLResponse("Cross-site sign-in refused.", status_code=403)
    services = services_of(request.app)
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    account = await services.users.authenticate(username, password)
    if account is None:
        await services.audit.record("sign_in_failed", username or "(empty)")
        return HTMLResponse(
            sign_in_page(error="Wrong username or password."),
            status_code=401,
            headers=_PAGE_HEADERS,
        )
    lifetime = timedelta(hours=services.settings.agent_login_hours)
    token = await services.users.sign_in(account, lifetime)
    await services.audit.record("signed_in", account.username)
    response = RedirectResponse("/agent", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=services.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


async def sign_out(request: Request) -> Response:
    if not is_same_origin(request.headers):
        return HTMLResponse("Cross-site sign-out refused.", status_code=403)
    token = request.cookies.get(COOKIE)
    if token:
        await services_of(request.app).users.sign_out(token)
    response = RedirectResponse("/agent", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


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
    match protocol.decode_agent(frame):
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


async def agent_socket(socket: WebSocket) -> None:
    # Cross-site WebSocket hijacking: the cookie would ride along from any site, so
    # only pages of this server may open the console socket.
    if not is_same_origin(socket.headers):
        await socket.close(code=protocol.CLOSE_FORBIDDEN_ORIGIN)
        return
    account = await signed_in_account(socket)
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
            except Refusal as refusal:
                await peer.send(protocol.error(refusal.code, refusal.text))
    except protocol.BadMessage as problem:
        await peer.send(protocol.error("bad_message", str(problem)))
        await peer.close(protocol.CLOSE_BAD_MESSAGE, str(problem))
    except WebSocketDisconnect:
        pass
    finally:
        await live.console_gone(agent_id, peer)
