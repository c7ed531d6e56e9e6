"""Fresh, migrated databases for store tests: SQLite in a temporary folder, and
PostgreSQL in a schema of its own that is dropped afterwards.

PostgreSQL is expected at POSTGRES_URL (override with TEST_POSTGRES_URL). When it is
not reachable the tests fail and say how to start it; TEST_POSTGRES=skip skips them
on purpose. They never skip on their own, so CI cannot go green without them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from cobrowse.store.db import Database

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def postgres_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL", POSTGRES_URL)
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


@asynccontextmanager
async def sqlite_database(folder: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'store.db'}")
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[Database]:
    """A Database whose connections all work in a new, empty schema."""
    if os.environ.get("TEST_POSTGRES") == "skip":
        pytest.skip("TEST_POSTGRES=skip")
    url = postgres_url()
    schema = f"cobrowse_test_{secrets.token_hex(6)}"
    admin = create_async_engine(url, connect_args={"timeout": 10})
    unreachable: Exception | None = None
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, DBAPIError) as exc:
        unreachable = exc
    if unreachable is not None:
        await admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {url}: {unreachable}\n"
            f"Start it with:  {START_POSTGRES}\n"
            "or point TEST_POSTGRES_URL at another server, or set TEST_POSTGRES=skip to skip "
            "the PostgreSQL variants on purpose.",
            pytrace=False,
        )
    db = Database(url)
    event.listen(db.engine.sync_engine, "connect", _search_path(schema))
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()
        async with admin.begin() as connection:
            # A task cancelled mid-transaction (a worker stopped by its test) can leave
            # a connection checked out and idle in its transaction, holding locks that
            # would make DROP SCHEMA wait forever: end such connections first.
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :schema AND pid <> pg_backend_pid()"
                ),
                {"schema": schema},
            )
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def _search_path(schema: str) -> Callable[[object, object], None]:
    """A connect hook putting every new connection in ``schema`` (SQLAlchemy's recipe)."""

    def set_search_path(dbapi_connection: object, _record: object) -> None:
        autocommit = dbapi_connection.autocommit  # type: ignore[attr-defined]
        dbapi_connection.autocommit = True  # type: ignore[attr-defined]
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(f'SET SESSION search_path = "{schema}"')
        # Named after the schema, so the clean-up can find connections left behind.
        cursor.execute(f"SET SESSION application_name = '{schema}'")
        cursor.close()
        dbapi_connection.autocommit = autocommit  # type: ignore[attr-defined]

    return set_search_path
