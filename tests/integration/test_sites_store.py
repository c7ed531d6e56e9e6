"""Sites in the store: the hosts the resource proxy may fetch their resources from and
the unsafe private-address switch, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, inspect

from cobrowse.core.resource_hosts import HostPattern
from cobrowse.store.db import Database
from cobrowse.store.sites import SiteError, SiteStore, UnknownSite
from tests.integration.test_restrictions_store import alembic


async def test_a_new_site_allows_only_its_origins_and_refuses_private_addresses(
    database: Database,
) -> None:
    site = await SiteStore(database).add("shop", ["https://shop.example.com"])
    assert site.resource_hosts == ()
    assert site.allow_private_addresses is False
    policy = await SiteStore(database).resource_policy("shop")
    assert policy is not None
    assert policy.allows("https://shop.example.com/style.css")
    assert not policy.allows("https://cdn.example.com/style.css")
    assert policy.allow_private_addresses is False


async def test_resource_hosts_are_added_in_canonical_form_once(database: Database) -> None:
    store = SiteStore(database)
    await store.add(
        "shop",
        ["https://shop.example.com"],
        ["CDN.example.com", "https://fonts.example.net:443", "*.img.example.org"],
    )
    again = await store.add("shop", ["https://shop.example.com"], ["cdn.example.com"])
    assert again.resource_hosts == (
        "*.img.example.org",
        "cdn.example.com",
        "https://fonts.example.net",
    )
    policy = again.resource_policy
    assert policy.hosts == tuple(HostPattern.parse(host) for host in again.resource_hosts)
    assert policy.allows("https://a.img.example.org/x.png")
    assert not policy.allows("http://fonts.example.net/x.woff2")


async def test_the_unsafe_switch_is_changed_only_when_asked(database: Database) -> None:
    store = SiteStore(database)
    await store.add("demo", ["http://localhost:8001"], allow_private_addresses=True)
    kept = await store.add("demo", ["http://127.0.0.1:8001"])
    assert kept.allow_private_addresses is True
    policy = await store.resource_policy("demo")
    assert policy is not None
    assert policy.allow_private_addresses
    turned_off = await store.change_resources("demo", allow_private_addresses=False)
    assert turned_off.allow_private_addresses is False


async def test_hosts_are_added_and_removed(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"], ["cdn.example.com"])
    changed = await store.change_resources(
        "shop", add=["fonts.example.net"], remove=["CDN.example.com"]
    )
    assert changed.resource_hosts == ("fonts.example.net",)
    assert (await store.site("shop")) == changed


async def test_mistakes_are_refused_and_change_nothing(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"], ["cdn.example.com"])
    with pytest.raises(SiteError, match="a wildcard covers the subdomains"):
        await store.change_resources("shop", add=["fonts.example.net", "*.com"])
    with pytest.raises(SiteError, match=r"site shop has no resource host img\.example\.com"):
        await store.change_resources("shop", add=["fonts.example.net"], remove=["img.example.com"])
    with pytest.raises(UnknownSite):
        await store.change_resources("nope", add=["cdn.example.com"])
    with pytest.raises(SiteError, match="give only"):
        await store.add("other", ["https://other.example.com"], ["https://cdn.example.com/path"])
    assert (await store.site("shop")).resource_hosts == ("cdn.example.com",)  # type: ignore[union-attr]
    assert await store.site("other") is None
    assert await store.resource_policy("nope") is None


def columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


async def test_migration_0004_downgrades_and_upgrades_again(database: Database) -> None:
    await SiteStore(database).add(
        "shop", ["https://shop.example.com"], ["cdn.example.com"], allow_private_addresses=True
    )
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0003")
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        site_columns = await connection.run_sync(columns, "sites")
    assert "site_resource_hosts" not in tables
    assert "allow_private_addresses" not in site_columns
    await database.migrate()
    site = await SiteStore(database).site("shop")
    assert site is not None
    assert (site.origins, site.resource_hosts, site.allow_private_addresses) == (
        ("https://shop.example.com",),
        (),
        False,
    )
