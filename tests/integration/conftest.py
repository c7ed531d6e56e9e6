"""Integration tests: the real ASGI app on a real port, driven over real WebSockets."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from cobrowse.demo.website import SAMPLE_SITE
from cobrowse.store.db import Database
from tests.databases import postgres_database, sqlite_database
from tests.support import Deployment, Server, deploy, sign_in_cookie

_agent_numbers = itertools.count(1)
_api_key_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("cobrowse"),
        {"shop": SAMPLE_SITE},
        max_message_bytes=64 * 1024,
        join_attempts_per_minute=5,
        customer_grace_seconds=1.5,
    )
    yield running
    running.stop()


@pytest.fixture
def site_origin(deployment: Deployment) -> str:
    return deployment.site_urls["shop"]


@pytest.fixture
def agent_cookie(deployment: Deployment) -> str:
    """A freshly created, signed-in agent (so tests never share the one-session rule)."""
    username = deployment.add_agent(f"agent-{next(_agent_numbers)}")
    return sign_in_cookie(deployment, username)


@pytest.fixture
def api_key(deployment: Deployment) -> str:
    """A fresh integration API key, created in the deployment's store."""
    return deployment.add_api_key(f"key-{next(_api_key_numbers)}")


def customer_socket(server: Server, origin: str) -> connect:
    return connect(f"{server.ws_url}/ws/customer", origin=origin, proxy=None)  # type: ignore[arg-type]


def agent_socket(server: Server, cookie: str) -> connect:
    """The console's socket, from a page of the server itself (its origin check)."""
    return connect(
        f"{server.ws_url}/ws/agent",
        origin=server.url,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
        proxy=None,
    )


@pytest.fixture
async def customer(deployment: Deployment, site_origin: str) -> AsyncIterator[ClientConnection]:
    async with customer_socket(deployment, site_origin) as socket:
        yield socket


@pytest.fixture
async def agent(deployment: Deployment, agent_cookie: str) -> AsyncIterator[ClientConnection]:
    async with agent_socket(deployment, agent_cookie) as socket:
        yield socket


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated store on each backend (PostgreSQL: see tests/databases.py)."""
    if request.param == "sqlite":
        async with sqlite_database(tmp_path) as db:
            yield db
    else:
        async with postgres_database() as db:
            yield db
