"""Helpers shared by the integration and browser tests: real servers on real ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import uvicorn
from starlette.types import ASGIApp

from cobrowse.app import create_app
from cobrowse.config import Settings
from cobrowse.core.restrictions import SiteRestrictions
from cobrowse.demo.website import create_site_app
from cobrowse.server import uvicorn_config
from cobrowse.store.api_keys import ApiKeyStore
from cobrowse.store.db import Database
from cobrowse.store.restrictions import RestrictionStore
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserRole, UserStore
from cobrowse.web.services import Services

AGENT_PASSWORD = "correct horse battery"


def run_async(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a thread of its own.

    Sync Playwright keeps an event loop on the test's thread, so asyncio.run()
    cannot be called there.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def cobrowse(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The `cobrowse` command in a subprocess, as an administrator runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_")}
    return subprocess.run(
        [sys.executable, "-m", "cobrowse", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerThread:
    """A uvicorn server on its own thread and event loop, listening on a real port."""

    def __init__(self, config: uvicorn.Config) -> None:
        self.server = uvicorn.Server(config)
        self.port = config.port
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)


def plain_server(app: ASGIApp, port: int) -> ServerThread:
    return ServerThread(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )


@dataclass
class Deployment:
    """A running cobrowse server plus the websites registered with it."""

    settings: Settings
    services: Services
    url: str
    site_urls: dict[str, str]
    threads: list[ServerThread]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def add_agent(
        self, username: str, password: str = AGENT_PASSWORD, role: UserRole = UserRole.AGENT
    ) -> str:
        """Add a user (an agent unless told otherwise), or give an existing one this role."""

        async def add() -> None:
            db = Database(self.settings.database_url)
            try:
                await UserStore(db).add(username, role, password)
            finally:
                await db.close()

        run_async(add)
        return username

    def add_admin(self, username: str, password: str = AGENT_PASSWORD) -> str:
        return self.add_agent(username, password, UserRole.ADMIN)

    def add_site(self, name: str, origins: list[str]) -> str:
        async def add() -> None:
            db = Database(self.settings.database_url)
            try:
                await SiteStore(db).add(name, origins)
            finally:
                await db.close()

        run_async(add)
        return name

    def add_api_key(self, name: str) -> str:
        """A new integration API key; returns the key itself."""
        created: list[str] = []

        async def create() -> None:
            db = Database(self.settings.database_url)
            try:
                created.append(await ApiKeyStore(db).create(name))
            finally:
                await db.close()

        run_async(create)
        return created[0]

    def stop(self) -> None:
        for thread in reversed(self.threads):
            thread.stop()


def deploy(data_dir: Path, sites: dict[str, Path], **settings_overrides: object) -> Deployment:
    """Start cobrowse on a fresh SQLite database and one website per entry of ``sites``.

    Sites are served on localhost, the way the demo does it, and registered under
    both localhost and 127.0.0.1.
    """
    port = free_port()
    url = f"http://localhost:{port}"
    # Binding sessions to calls (S2) has tests of its own; the others join by ID alone.
    settings_overrides.setdefault("require_interaction", False)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{data_dir / 'cobrowse.db'}",
        port=port,
        **settings_overrides,  # type: ignore[arg-type]
    )
    site_ports = {name: free_port() for name in sites}

    async def register() -> None:
        db = Database(settings.database_url)
        try:
            await db.migrate()
            for name, site_port in site_ports.items():
                origins = [f"http://localhost:{site_port}", f"http://127.0.0.1:{site_port}"]
                await SiteStore(db).add(name, origins)
        finally:
            await db.close()

    run_async(register)
    services = Services.build(settings)
    threads = [
        ServerThread(uvicorn_config(create_app(settings, services), settings, "127.0.0.1", port))
    ]
    threads += [
        plain_server(create_site_app(url, directory), site_ports[name])
        for name, directory in sites.items()
    ]
    started: list[ServerThread] = []
    try:
        for thread in threads:
            thread.start()
            started.append(thread)
    except Exception:
        for thread in started:
            thread.stop()
        raise
    site_urls = {name: f"http://localhost:{site_port}" for name, site_port in site_ports.items()}
    return Deployment(settings, services, url, site_urls, threads)


class Server(Protocol):
    """A running cobrowse server as the tests reach it: a Deployment, or a cluster node."""

    @property
    def url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


def sign_in_cookie(
    server: Server, username: str, password: str = AGENT_PASSWORD, console: str = "/agent"
) -> str:
    """Sign in over HTTP like a console's form does (the agent console unless told
    otherwise); returns the Cookie header value.

    The cookie is Secure, so an HTTP client's jar would not send it back over plain
    http: read it from Set-Cookie instead.
    """
    response = httpx.post(
        f"{server.url}{console}/sign-in",
        data={"username": username, "password": password},
        headers={"Origin": server.url},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    set_cookie = response.headers["set-cookie"]
    return set_cookie.split(";", 1)[0]


def set_restrictions(deployment: Deployment, site: str, document: dict[str, object]) -> None:
    """Save a site's DOM restrictions straight into the store, as an import would."""

    async def save() -> None:
        db = Database(deployment.settings.database_url)
        try:
            await RestrictionStore(db).put(site, SiteRestrictions.from_wire(document, site))
        finally:
            await db.close()

    run_async(save)
