"""API keys in the store, on SQLite and PostgreSQL: shown once, kept as a digest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cobrowse.store.api_keys import KEY_PREFIX, ApiKeyError, ApiKeyStore
from cobrowse.store.db import Database
from cobrowse.store.models import ApiKey


async def test_a_key_is_returned_once_and_only_its_digest_is_kept(database: Database) -> None:
    key = await ApiKeyStore(database).create("crm")
    assert key.startswith(KEY_PREFIX)
    assert len(key) > len(KEY_PREFIX) + 40
    async with database.sessions() as tx:
        row = await tx.scalar(select(ApiKey))
    assert row is not None
    assert row.name == "crm"
    assert row.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(vars(row))


async def test_a_key_verifies_to_its_name_and_records_its_use(database: Database) -> None:
    keys = ApiKeyStore(database)
    key = await keys.create("crm")
    [before] = await keys.list()
    assert before.last_used_at is None

    assert await keys.verify(key) == "crm"
    [after] = await keys.list()
    assert after.last_used_at is not None
    assert after.last_used_at <= datetime.now(UTC)


@pytest.mark.parametrize("wrong", ["", "cbk_", "cbk_not-a-key", "Bearer cbk_x", "not a key"])
async def test_anything_else_does_not_verify(database: Database, wrong: str) -> None:
    keys = ApiKeyStore(database)
    key = await keys.create("crm")
    assert await keys.verify(wrong) is None
    assert await keys.verify(key.upper()) is None


async def test_a_revoked_key_no_longer_verifies(database: Database) -> None:
    keys = ApiKeyStore(database)
    key = await keys.create("crm")
    await keys.revoke("crm")
    assert await keys.verify(key) is None
    assert await keys.list() == []
    with pytest.raises(ApiKeyError, match="there is no API key named 'crm'"):
        await keys.revoke("crm")


async def test_names_are_unique_and_plain(database: Database) -> None:
    keys = ApiKeyStore(database)
    await keys.create("crm")
    with pytest.raises(ApiKeyError, match="already exists; revoke it first"):
        await keys.create("crm")
    with pytest.raises(ApiKeyError, match="1 to 64 letters"):
        await keys.create("my crm!")
    await keys.create("billing")
    assert [key.name for key in await keys.list()] == ["billing", "crm"]
