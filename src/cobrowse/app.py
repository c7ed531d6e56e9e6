"""The ASGI application: routes, middleware, and the services they share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from cobrowse.config import Settings
from cobrowse.live.restriction_poll import poll_restrictions
from cobrowse.live.sessions import run_timeouts
from cobrowse.metrics import CONTENT_TYPE
from cobrowse.web import admin, agent, chat, customer, resources
from cobrowse.web.admin import create_admin_api
from cobrowse.web.agent_api import create_agent_api
from cobrowse.web.api import create_api
from cobrowse.web.security import SecurityHeaders
from cobrowse.web.services import STATIC, Services, services_of


async def _home(request: Request) -> Response:
    return RedirectResponse("/agent", status_code=307)


async def _healthz(request: Request) -> Response:
    """The process is up (liveness)."""
    return PlainTextResponse("ok")


async def _readyz(request: Request) -> Response:
    """The process can serve: its database and (in cluster mode) Redis answer."""
    services = services_of(request.app)
    checks = (("database", services.db.ping), ("redis", services.live.fanout.ping))
    for name, ping in checks:
        try:
            await ping()
        except Exception as problem:  # any failure means not ready, whatever raised it
            text = f"{name} unreachable: {type(problem).__name__}"
            return PlainTextResponse(text, status_code=503)
    return PlainTextResponse("ready")


async def _metrics(request: Request) -> Response:
    metrics = services_of(request.app).live.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The app; ``services`` may be passed in by tests that want to look inside."""
    shared = services or Services.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await shared.db.migrate()
        background = [
            asyncio.create_task(
                poll_restrictions(
                    shared.restrictions, shared.live, settings.restrictions_poll_seconds
                )
            ),
            asyncio.create_task(run_timeouts(shared.live)),
            asyncio.create_task(shared.live.fanout.run(shared.webchat.hub.deliver)),
            asyncio.create_task(shared.webhook_worker.run()),
        ]
        yield
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await shared.live.close()
        await shared.resources.close()
        await shared.db.close()

    app = Starlette(
        routes=[
            Route("/", _home),
            Route("/healthz", _healthz),
            Route("/readyz", _readyz),
            Route("/metrics", _metrics),
            Route("/cobrowse.js", customer.customer_script),
            Route("/customer/config", customer.customer_config),
            WebSocketRoute("/ws/customer", customer.customer_socket),
            WebSocketRoute("/ws/chat", chat.chat_socket),
            Route("/agent", agent.console),
            *agent.SIGN_IN.routes(),
            WebSocketRoute("/ws/agent", agent.agent_socket),
            Mount("/agent/api", create_agent_api(shared)),
            Route("/resources/{session_id}/{token}/{encoded}", resources.resource),
            Route("/admin", admin.console),
            *admin.SIGN_IN.routes(),
            Mount("/admin/api", create_admin_api(shared)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Mount("/api/v1", create_api(shared)),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.services = shared
    return app
