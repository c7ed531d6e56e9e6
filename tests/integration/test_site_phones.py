"""Support phone numbers per site (CallUs widget): the store on SQLite and PostgreSQL,
`cobrowse sites phones` as an administrator runs it, and migration 0007."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from cobrowse.core.phones import PhoneNumber
from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent
from cobrowse.store.sites import SiteError, SiteStore, UnknownSite
from tests.integration.test_restrictions_store import alembic, table_names
from tests.support import cobrowse


async def test_numbers_are_added_in_order_with_labels(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"])
    await store.change_phones("shop", ["+1 555 0100"], label="Support")
    site = await store.change_phones("shop", ["0800 123 456", "+44 20 7946 0958"])
    assert site.phones == (
        PhoneNumber("+1 555 0100", "Support"),
        PhoneNumber("0800 123 456"),
        PhoneNumber("+44 20 7946 0958"),
    )
    found = await store.site_for_origin("https://shop.example.com")
    assert found is not None
    assert found.phones == site.phones


async def test_the_same_digits_are_one_number_whatever_the_spelling(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"])
    await store.change_phones("shop", ["+1 555 0100"])
    again = await store.change_phones("shop", ["+1 (555) 01-00"], label="Sales")
    assert again.phones == (PhoneNumber("+1 (555) 01-00", "Sales"),)
    removed = await store.change_phones("shop", remove=["+15550100"])
    assert removed.phones == ()


async def test_numbers_belong_to_one_site(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"])
    await store.add("bank", ["https://bank.example.com"])
    await store.change_phones("shop", ["+1 555 0100"])
    await store.change_phones("bank", ["+1 555 0100"], label="Bank")
    shop = await store.site("shop")
    assert shop is not None
    assert shop.phones == (PhoneNumber("+1 555 0100"),)


async def test_bad_changes_are_refused_and_change_nothing(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"])
    await store.change_phones("shop", ["+1 555 0100"])
    refusals = [
        ({"add": ["call me"]}, "only digits"),
        ({"add": ["+1 555 0199"], "remove": ["+1 555 0199"]}, "both added and removed"),
        ({"remove": ["+1 555 0199"]}, "has no phone number"),
        ({"label": "Support"}, "give it with --add"),
        ({"add": ["+1 555 0199"], "label": "x" * 65}, "at most 64"),
        # The bad number comes second: the good first one is not kept either.
        ({"add": ["+1 555 0199"], "remove": ["+1 555 0100", "+1 555 0177"]}, "no phone"),
    ]
    for change, says in refusals:
        with pytest.raises(SiteError, match=says):
            await store.change_phones("shop", **change)  # type: ignore[arg-type]
    with pytest.raises(UnknownSite):
        await store.change_phones("nowhere", ["+1 555 0100"])
    site = await store.site("shop")
    assert site is not None
    assert site.phones == (PhoneNumber("+1 555 0100"),)


async def test_migration_0007_downgrades_and_upgrades_again(database: Database) -> None:
    store = SiteStore(database)
    await store.add("shop", ["https://shop.example.com"])
    await store.change_phones("shop", ["+1 555 0100"])
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0006")
        tables = await connection.run_sync(table_names)
    assert "site_phones" not in tables
    assert "sites" in tables
    await database.migrate()
    site = await store.site("shop")
    assert site is not None
    assert site.phones == ()


def test_sites_phones_adds_shows_and_removes_numbers(tmp_path: Path) -> None:
    site = cobrowse("sites", "add", "shop", "--origin", "https://shop.example.com", cwd=tmp_path)
    assert site.returncode == 0, site.stderr
    empty = cobrowse("sites", "phones", "shop", cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "site shop: support phone numbers\n  none\n"

    added = cobrowse(
        "sites", "phones", "shop", "--add", "+1 555 0100", "--label", "Support", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    more = cobrowse("sites", "phones", "shop", "--add", "0800 123 456", cwd=tmp_path)
    assert more.stdout == (
        "site shop: support phone numbers\n  +1 555 0100 (Support)\n  0800 123 456\n"
    )
    removed = cobrowse("sites", "phones", "shop", "--remove", "+15550100", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "site shop: support phone numbers\n  0800 123 456\n"

    async def audited() -> list[dict[str, object]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cobrowse.db'}")
        try:
            async with db.sessions() as tx:
                events = await tx.scalars(
                    select(AuditEvent).where(AuditEvent.kind == "site_phones_changed")
                )
                return [event.detail for event in events]
        finally:
            await db.close()

    assert asyncio.run(audited()) == [
        {"site": "shop", "added": "+1 555 0100", "removed": None},
        {"site": "shop", "added": "0800 123 456", "removed": None},
        {"site": "shop", "added": None, "removed": "+15550100"},
    ]


def test_sites_phones_says_what_is_wrong(tmp_path: Path) -> None:
    unknown = cobrowse("sites", "phones", "nowhere", cwd=tmp_path)
    assert unknown.returncode != 0
    assert "there is no site named 'nowhere' (cobrowse sites add registers one)" in unknown.stderr
    cobrowse("sites", "add", "shop", "--origin", "https://shop.example.com", cwd=tmp_path)
    bad = cobrowse("sites", "phones", "shop", "--add", "555-CALL-NOW", cwd=tmp_path)
    assert bad.returncode != 0
    assert "may contain only digits, spaces, dashes and parentheses" in bad.stderr
    missing = cobrowse("sites", "phones", "shop", "--remove", "+1 555 0100", cwd=tmp_path)
    assert missing.returncode != 0
    assert "site shop has no phone number +1 555 0100" in missing.stderr
