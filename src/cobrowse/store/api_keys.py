"""Keys of the integration API (PRODUCT.md §2): created by an administrator with the
CLI, shown once, stored as a SHA-256 digest so a leaked table grants nothing."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from cobrowse.core.ids import new_token, token_digest
from cobrowse.store.db import Database, as_utc
from cobrowse.store.models import ApiKey

KEY_PREFIX = "cbk_"
"""Marks a string as a cobrowse API key, for people and for secret scanners."""
KEY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ApiKeyError(Exception):
    """A key could not be created or revoked; the message says why."""


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown about a key: never the key itself."""

    name: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, name: str) -> str:
        """A new key named ``name``; the returned secret cannot be read back later."""
        if not KEY_NAME_PATTERN.match(name):
            raise ApiKeyError(
                "an API key name is 1 to 64 letters, digits, dots, dashes or underscores"
            )
        key = KEY_PREFIX + new_token()
        async with self._db.sessions.begin() as tx:
            if await tx.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                raise ApiKeyError(f"an API key named {name!r} already exists; revoke it first")
            tx.add(ApiKey(name=name, key_digest=token_digest(key), created_at=datetime.now(UTC)))
        return key

    async def verify(self, key: str) -> str | None:
        """The name of the key, or None when it is not a live key. Records its use."""
        if not key.startswith(KEY_PREFIX):
            return None
        async with self._db.sessions.begin() as tx:
            name = await tx.scalar(
                update(ApiKey)
                .where(ApiKey.key_digest == token_digest(key))
                .values(last_used_at=datetime.now(UTC))
                .returning(ApiKey.name)
                .execution_options(synchronize_session=False)
            )
        return name

    async def revoke(self, name: str) -> None:
        async with self._db.sessions.begin() as tx:
            revoked = await tx.scalar(
                delete(ApiKey)
                .where(ApiKey.name == name)
                .returning(ApiKey.id)
                .execution_options(synchronize_session=False)
            )
        if revoked is None:
            raise ApiKeyError(f"there is no API key named {name!r}")

    async def list(self) -> builtins.list[ApiKeyInfo]:
        """Every live key, by name."""
        async with self._db.sessions() as tx:
            keys = await tx.scalars(select(ApiKey).order_by(ApiKey.name))
            return [
                ApiKeyInfo(
                    key.name,
                    as_utc(key.created_at),
                    as_utc(key.last_used_at) if key.last_used_at is not None else None,
                )
                for key in keys.all()
            ]
