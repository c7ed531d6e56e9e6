"""Restrictions in the store, and the migrations that make its tables, on SQLite and
PostgreSQL (see tests/databases.py for how PostgreSQL is reached)."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, inspect, select, text, update

from cobrowse.core.restrictions import RestrictionError, Rule, SiteRestrictions
from cobrowse.store.db import MIGRATIONS, Database
from cobrowse.store.models import Site, SiteRestrictionDocument
from cobrowse.store.restrictions import RestrictionStore
from cobrowse.store.sites import SiteStore, UnknownSite

CHECKOUT = SiteRestrictions(
    disable_submit=False,
    rules=(Rule("/checkout*", ("#email", "#iban"), ("#delete-account",)),),
)
INVALID = SiteRestrictions(rules=(Rule("/checkout*", ("#a[",)),))


async def add_sites(db: Database, *names: str) -> None:
    for name in names:
        await SiteStore(db).add(name, [f"https://{name}.example"])


def alembic(connection: Connection, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_make_every_table_and_can_be_run_again(database: Database) -> None:
    await database.migrate()
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(table_names)
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert tables >= {
        "users",
        "sites",
        "site_origins",
        "agent_logins",
        "audit_events",
        "site_restrictions",
        "api_keys",
        "session_history",
        "interactions",
        "webhook_subscriptions",
        "webhook_deliveries",
        "site_resource_hosts",
        "chats",
        "chat_messages",
        "site_phones",
    }
    assert version == "0007"


async def test_migration_0002_downgrades_and_upgrades_again(database: Database) -> None:
    await add_sites(database, "shop")
    await RestrictionStore(database).put("shop", CHECKOUT)
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0001")
        tables = await connection.run_sync(table_names)
    assert "site_restrictions" not in tables
    assert "api_keys" not in tables
    assert "sites" in tables
    await database.migrate()
    assert await RestrictionStore(database).get("shop") == SiteRestrictions()


async def test_a_site_nobody_configured_has_the_defaults(database: Database) -> None:
    await add_sites(database, "shop")
    store = RestrictionStore(database)
    assert await store.get("shop") == SiteRestrictions()
    assert await store.latest_version() == 0


async def test_an_unknown_site_is_refused(database: Database) -> None:
    store = RestrictionStore(database)
    with pytest.raises(UnknownSite, match="there is no site named 'nosuch'"):
        await store.get("nosuch")
    with pytest.raises(UnknownSite):
        await store.put("nosuch", CHECKOUT)


async def test_saved_restrictions_read_back_the_same_and_are_stored_as_the_wire_document(
    database: Database,
) -> None:
    await add_sites(database, "shop")
    store = RestrictionStore(database)
    assert await store.put("shop", CHECKOUT) == 1
    assert await store.get("shop") == CHECKOUT
    async with database.sessions() as tx:
        row = await tx.scalar(select(SiteRestrictionDocument))
    assert row is not None
    assert row.document == CHECKOUT.to_wire()
    assert row.version == 1


async def test_every_save_raises_the_latest_version_whichever_site_it_is(
    database: Database,
) -> None:
    await add_sites(database, "shop", "blog")
    store = RestrictionStore(database)
    assert await store.put("shop", CHECKOUT) == 1
    assert await store.put("shop", SiteRestrictions()) == 2
    assert await store.latest_version() == 2
    # blog's first save must still move the largest version, or a poller would miss it.
    assert await store.put("blog", CHECKOUT) == 3
    assert await store.latest_version() == 3


async def test_concurrent_saves_get_distinct_versions(database: Database) -> None:
    names = [f"site{number}" for number in range(8)]
    await add_sites(database, *names)
    store = RestrictionStore(database)
    versions = await asyncio.gather(*(store.put(name, CHECKOUT) for name in names))
    assert sorted(versions) == list(range(1, 9))
    assert await store.latest_version() == 8


async def test_invalid_restrictions_are_refused_and_nothing_is_saved(database: Database) -> None:
    await add_sites(database, "shop")
    store = RestrictionStore(database)
    await store.put("shop", CHECKOUT)
    with pytest.raises(RestrictionError, match=r'site shop, rule 1: invalid mask selector "#a\["'):
        await store.put("shop", INVALID)
    assert await store.get("shop") == CHECKOUT
    assert await store.latest_version() == 1


async def test_replacing_several_sites_saves_all_or_nothing(database: Database) -> None:
    await add_sites(database, "shop", "blog", "docs")
    store = RestrictionStore(database)
    with pytest.raises(RestrictionError, match="site blog, rule 1"):
        await store.replace({"shop": CHECKOUT, "blog": INVALID})
    with pytest.raises(UnknownSite):
        await store.replace({"shop": CHECKOUT, "nosuch": CHECKOUT})
    assert await store.latest_version() == 0

    versions = await store.replace({"shop": CHECKOUT, "blog": CHECKOUT})
    assert versions == {"shop": 1, "blog": 2}
    assert await store.all() == {"blog": CHECKOUT, "docs": SiteRestrictions(), "shop": CHECKOUT}


async def test_removing_a_site_removes_its_restrictions(database: Database) -> None:
    await add_sites(database, "shop", "blog")
    store = RestrictionStore(database)
    await store.put("shop", CHECKOUT)
    async with database.sessions.begin() as tx:
        await tx.execute(delete(Site).where(Site.name == "shop"))
    assert await store.all() == {"blog": SiteRestrictions()}
    async with database.sessions() as tx:
        assert await tx.scalar(select(SiteRestrictionDocument)) is None


async def test_a_saved_document_a_later_check_would_refuse_is_still_served(
    database: Database,
) -> None:
    """Stricter validation in an upgrade refuses the next save, never reads."""
    await add_sites(database, "shop")
    store = RestrictionStore(database)
    await store.put("shop", CHECKOUT)
    async with database.sessions.begin() as tx:
        await tx.execute(update(SiteRestrictionDocument).values(document=INVALID.to_wire()))
    assert await store.get("shop") == INVALID
    assert await store.all() == {"shop": INVALID}
    with pytest.raises(RestrictionError):
        await store.put("shop", INVALID)
