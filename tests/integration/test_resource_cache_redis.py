"""The resource cache in cluster mode: one Redis, shared by every node."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from cobrowse.app import create_app
from cobrowse.config import Settings
from cobrowse.core.resource_urls import proxied_url
from cobrowse.core.session import Timeouts
from cobrowse.live.redis_state import RedisState
from cobrowse.proxy.cache import CachedResource, RedisResourceCache
from cobrowse.server import uvicorn_config
from cobrowse.store.db import Database
from cobrowse.store.sites import SiteStore
from cobrowse.web.services import Services
from tests.cluster import redis_server
from tests.integration.test_sockets import start
from tests.resource_origin import PNG, Origin
from tests.support import ServerThread, free_port, plain_server, run_async


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


async def forget(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    async for key in redis.scan_iter(f"{prefix}:*"):
        await redis.delete(key)
    await redis.aclose()


def entry(body: bytes, expires_in: float = 60.0) -> CachedResource:
    return CachedResource(
        hops=("https://shop.example.com/a.png",),
        media_type="image/png",
        body=body,
        stylesheet=None,
        expires_at=time.time() + expires_in,
    )


async def test_what_one_node_cached_another_node_reads(redis_url: str) -> None:
    prefix = f"cbt{secrets.token_hex(4)}"
    node_a = RedisResourceCache(Redis.from_url(redis_url), prefix, 1 << 20)
    node_b = RedisResourceCache(Redis.from_url(redis_url), prefix, 1 << 20)
    try:
        stylesheet = CachedResource(
            hops=("https://shop.example.com/a.css", "https://cdn.example.com/a.css"),
            media_type="text/css",
            body=b"",
            stylesheet=(".a{background:url(", "https://cdn.example.com/a.png", ")}"),
            expires_at=time.time() + 60,
        )
        await node_a.put("public https://shop.example.com/a.css", stylesheet)
        assert await node_b.get("public https://shop.example.com/a.css") == stylesheet
        assert await node_b.get("any https://shop.example.com/a.css") is None

        raw = Redis.from_url(redis_url)
        keys = [key async for key in raw.scan_iter(f"{prefix}:resource:*")]
        assert len(keys) == 1
        assert 0 < await raw.pttl(keys[0]) <= 60_000, "the entry expires in Redis too"
        await raw.aclose()
    finally:
        await forget(redis_url, prefix)
        await node_a.close()
        await node_b.close()


async def test_oversized_stale_or_unreadable_entries_are_not_served(redis_url: str) -> None:
    prefix = f"cbt{secrets.token_hex(4)}"
    cache = RedisResourceCache(Redis.from_url(redis_url), prefix, max_entry_bytes=1000)
    try:
        await cache.put("big", entry(b"x" * 2000))
        assert await cache.get("big") is None
        await cache.put("stale", entry(b"x", expires_in=-1))
        assert await cache.get("stale") is None
        raw = Redis.from_url(redis_url)
        await raw.set(cache.storage_key("garbled"), b"not msgpack of a resource", px=60_000)
        await raw.aclose()
        assert await cache.get("garbled") is None
    finally:
        await forget(redis_url, prefix)
        await cache.close()


async def test_an_unreachable_redis_is_a_cache_that_misses() -> None:
    cache = RedisResourceCache(
        Redis.from_url(f"redis://127.0.0.1:{free_port()}/0"), "cbt-down", 1 << 20
    )
    await cache.put("a", entry(b"x"))
    assert await cache.get("a") is None
    await cache.close()


@dataclass
class TwoNodes:
    urls: tuple[str, str]
    origin: Origin
    site_url: str
    redis_url: str
    prefix: str


@pytest.fixture(scope="module")
def two_nodes(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoNodes]:
    """Two cobrowse apps (each with its own Services) on one Redis prefix and one
    store, and a website on localhost whose site has the unsafe switch on."""
    prefix = f"cbt{secrets.token_hex(4)}"
    folder: Path = tmp_path_factory.mktemp("proxy-cluster")
    origin = Origin()
    site_port = free_port()
    site_url = f"http://localhost:{site_port}"
    settings = [
        Settings(
            database_url=f"sqlite+aiosqlite:///{folder / 'cobrowse.db'}",
            redis_url=redis_url,
            redis_prefix=prefix,
            port=free_port(),
        )
        for _ in range(2)
    ]

    async def register() -> None:
        db = Database(settings[0].database_url)
        try:
            await db.migrate()
            await SiteStore(db).add("shop", [site_url], allow_private_addresses=True)
        finally:
            await db.close()

    run_async(register)
    servers = [plain_server(origin.app(), site_port)] + [
        ServerThread(
            uvicorn_config(create_app(node, Services.build(node)), node, "127.0.0.1", node.port)
        )
        for node in settings
    ]
    for server in servers:
        server.start()
    yield TwoNodes(
        (f"http://localhost:{settings[0].port}", f"http://localhost:{settings[1].port}"),
        origin,
        site_url,
        redis_url,
        prefix,
    )
    for server in reversed(servers):
        server.stop()
    run_async(lambda: forget(redis_url, prefix))


@pytest.fixture
async def cluster_state(two_nodes: TwoNodes) -> AsyncIterator[RedisState]:
    """The cluster's live state, read from the test (as a third node would)."""
    state = RedisState(Redis.from_url(two_nodes.redis_url), two_nodes.prefix, Timeouts(), 10)
    yield state
    await state.close()


async def test_a_resource_fetched_through_one_node_is_served_by_the_other_from_the_cache(
    two_nodes: TwoNodes, cluster_state: RedisState
) -> None:
    node_a, node_b = two_nodes.urls
    customer_url = f"{node_a.replace('http://', 'ws://')}/ws/customer"
    async with connect(customer_url, origin=two_nodes.site_url, proxy=None) as customer:  # type: ignore[arg-type]
        session_id = await start(customer)
        session = await cluster_state.get(session_id)
        assert session is not None
        link = proxied_url(session_id, session.resource_token, f"{two_nodes.site_url}/img/logo.png")
        async with httpx.AsyncClient() as browser:
            first = await browser.get(f"{node_a}{link}")
            second = await browser.get(f"{node_b}{link}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content == PNG
    assert two_nodes.origin.hits("/img/logo.png") == 1
