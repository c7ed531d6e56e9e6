"""The admin console (/admin): live sessions, force-end, and the session history.

The page is static HTML that admin.js fills in from JSON endpoints under /admin/api,
polling the live sessions every second. Polling rather than a socket, because every
request is checked against the sign-in (a sign-out or a changed role counts from
the next poll on), a dropped connection needs nothing but the next poll, and the
live state offers a snapshot (``LiveSessions.overview``), not change notifications
a socket could push.

Only accounts with the admin role get in; the sign-in cookie is scoped to /admin,
so the agent console's pages and sockets never carry it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from cobrowse.core.ids import SESSION_ID_PATTERN
from cobrowse.core.session import END_REASON_TEXT, EndReason, Mode, Session, SessionState
from cobrowse.store.users import Account, UserRole
from cobrowse.web.api import json_app
from cobrowse.web.api_base import ApiError, ServicesDep
from cobrowse.web.history_search import HistoryFilters, SessionRecord, history_filters
from cobrowse.web.pages import admin_console_page, admin_refused_page
from cobrowse.web.security import ADMIN_CSP
from cobrowse.web.services import Services
from cobrowse.web.sign_in import ConsoleSignIn

log = logging.getLogger("cobrowse.admin")

SIGN_IN = ConsoleSignIn(
    title="Admin console",
    home="/admin",
    cookie="cobrowse_admin",
    cookie_path="/admin",
    csp=ADMIN_CSP,
    role=UserRole.ADMIN,
    refusal="Only administrators can use the admin console.",
)


async def console(request: Request) -> Response:
    account = await SIGN_IN.account(request)
    if account is None:
        return SIGN_IN.form()
    if not SIGN_IN.permits(account):
        return SIGN_IN.page(admin_refused_page(account.username, account.role.value), 403)
    page = admin_console_page(
        account.username,
        end_reasons=[reason.value for reason in EndReason],
        admin_ended_text=END_REASON_TEXT[EndReason.ADMIN_ENDED],
    )
    return SIGN_IN.page(page)


class LiveSession(BaseModel):
    session_id: str
    site: str
    state: SessionState
    mode: Mode
    agent: str | None = Field(description="The agent in the session; null until one joins.")
    started_at: datetime
    joined_at: datetime | None
    duration_seconds: float = Field(
        description="How long it has been live, by the server's clock: the console counts "
        "on from there with its own, so a skewed clock in the browser does not matter."
    )

    @classmethod
    def of(cls, session: Session, now: float) -> LiveSession:
        return cls(
            session_id=session.id,
            site=session.site_id,
            state=session.state,
            mode=session.mode,
            agent=session.agent_id,
            started_at=_moment(session.created_at),
            joined_at=_moment(session.joined_at) if session.joined_at is not None else None,
            duration_seconds=max(0.0, now - session.created_at),
        )


class LiveOverview(BaseModel):
    sessions: list[LiveSession] = Field(description="Every live session, oldest first.")


class SessionEnded(BaseModel):
    session_id: str
    end_reason: EndReason


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


Admin = Annotated[Account, Depends(SIGN_IN.signed_in)]
SessionId = Annotated[str, Path(pattern=SESSION_ID_PATTERN.pattern)]

router = APIRouter(dependencies=[Depends(SIGN_IN.signed_in)])


@router.get("/live")
async def live_sessions(services: ServicesDep) -> LiveOverview:
    sessions = await services.live.overview()
    now = time.time()  # the clock the live sessions are stamped with
    return LiveOverview(sessions=[LiveSession.of(session, now) for session in sessions])


@router.post("/live/{session_id}/end", dependencies=[Depends(SIGN_IN.from_its_page)])
async def end_session(session_id: SessionId, admin: Admin, services: ServicesDep) -> SessionEnded:
    """End a live session for both parties; the end is audited with the admin as actor."""
    if not await services.live.force_end(session_id, admin.username):
        raise ApiError(404, "not_live", f"Session {session_id} is not live any more.")
    log.info("session force-ended", extra={"session": session_id, "admin": admin.username})
    return SessionEnded(session_id=session_id, end_reason=EndReason.ADMIN_ENDED)


@router.get("/history")
async def history(
    services: ServicesDep, filters: Annotated[HistoryFilters, Depends(history_filters)]
) -> list[SessionRecord]:
    return await filters.search(services.history)


def create_admin_api(services: Services) -> FastAPI:
    """The console's JSON endpoints, to be mounted at /admin/api. Not part of the
    integration API, so no OpenAPI document: only admin.js calls them."""
    api = json_app(services, title="cobrowse admin console", openapi_url=None)
    api.include_router(router)
    return api
