"""The session history store and its migration, on SQLite and PostgreSQL (see
tests/databases.py for how PostgreSQL is reached)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, inspect

from cobrowse.store.db import Database
from cobrowse.store.history import HistoryRecord, SessionHistory
from tests.integration.test_restrictions_store import alembic

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def one_session(
    history: SessionHistory,
    session_id: str,
    site: str,
    agent: str | None,
    start: float,
    reason: str = "agent_exit",
) -> None:
    """A session started ``start`` minutes after T0, joined by ``agent``, ended 5 later."""
    await history.started(session_id, site, at(start))
    if agent is not None:
        await history.joined(session_id, agent, at(start + 1))
    await history.ended(session_id, reason, at(start + 5))


async def test_a_session_is_recorded_from_start_to_end(database: Database) -> None:
    history = SessionHistory(database)
    await history.started("123456789", "shop", at(0))
    [live] = await history.search()
    assert live == HistoryRecord(
        session_id="123456789",
        site="shop",
        agent=None,
        started_at=at(0),
        joined_at=None,
        ended_at=None,
        end_reason=None,
        write_mode_requests=0,
        write_mode_declined=0,
        mode_changes=0,
    )
    assert live.duration is None

    await history.joined("123456789", "alice", at(1))
    await history.write_mode_requested("123456789")
    await history.write_mode_answered("123456789", accepted=False)
    await history.write_mode_requested("123456789")
    await history.write_mode_answered("123456789", accepted=True)
    await history.mode_changed("123456789")
    await history.mode_changed("123456789")
    await history.ended("123456789", "customer_exit", at(12.5))

    [ended] = await history.search()
    assert ended == HistoryRecord(
        session_id="123456789",
        site="shop",
        agent="alice",
        started_at=at(0),
        joined_at=at(1),
        ended_at=at(12.5),
        end_reason="customer_exit",
        write_mode_requests=2,
        write_mode_declined=1,
        mode_changes=2,
    )
    assert ended.duration == timedelta(minutes=12.5)
    assert ended.started_at.tzinfo is not None
    assert ended.started_at.utcoffset() == timedelta(0)


async def test_a_reused_session_id_keeps_both_sessions(database: Database) -> None:
    history = SessionHistory(database)
    await one_session(history, "111111111", "shop", "alice", 0, "customer_exit")
    await history.started("111111111", "blog", at(10))
    await history.joined("111111111", "bob", at(11))
    await history.mode_changed("111111111")
    # After the first session ended, updates only reach the live one.
    await history.ended("111111111", "inactivity", at(20))
    await history.mode_changed("111111111")  # nothing is live: changes nothing

    newer, older = await history.search()
    assert (newer.site, newer.agent, newer.end_reason, newer.mode_changes) == (
        "blog",
        "bob",
        "inactivity",
        1,
    )
    assert (older.site, older.agent, older.end_reason, older.mode_changes) == (
        "shop",
        "alice",
        "customer_exit",
        0,
    )
    assert older.ended_at == at(5)


async def test_updates_to_an_unknown_session_change_nothing(database: Database) -> None:
    history = SessionHistory(database)
    await history.joined("999999999", "alice", at(0))
    await history.ended("999999999", "agent_exit", at(1))
    assert await history.search() == []


async def test_search_filters_and_orders_newest_first(database: Database) -> None:
    history = SessionHistory(database)
    await one_session(history, "100000001", "shop", "alice", 0, "agent_exit")
    await one_session(history, "100000002", "blog", "bob", 10, "customer_exit")
    await one_session(history, "100000003", "shop", None, 20, "join_timeout")
    await one_session(history, "100000004", "shop", "bob", 30, "agent_exit")

    def ids(records: list[HistoryRecord]) -> list[str]:
        return [record.session_id for record in records]

    everything = await history.search()
    assert ids(everything) == ["100000004", "100000003", "100000002", "100000001"]
    assert ids(await history.search(since=at(10))) == ["100000004", "100000003", "100000002"]
    assert ids(await history.search(until=at(10))) == ["100000001"]
    assert ids(await history.search(since=at(5), until=at(25))) == ["100000003", "100000002"]
    # Any UTC offset names the same moment; a naive time is UTC.
    plus_one = timezone(timedelta(hours=1))
    assert ids(await history.search(since=at(20).astimezone(plus_one))) == [
        "100000004",
        "100000003",
    ]
    assert ids(await history.search(since=at(20).replace(tzinfo=None))) == [
        "100000004",
        "100000003",
    ]
    assert ids(await history.search(agent="bob")) == ["100000004", "100000002"]
    assert ids(await history.search(site="blog")) == ["100000002"]
    assert ids(await history.search(end_reason="agent_exit")) == ["100000004", "100000001"]
    assert ids(await history.search(site="shop", agent="bob", end_reason="agent_exit")) == [
        "100000004"
    ]
    assert await history.search(agent="nobody") == []
    assert ids(await history.search(limit=2)) == ["100000004", "100000003"]
    with pytest.raises(ValueError, match="limit"):
        await history.search(limit=0)


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migration_0003_downgrades_and_upgrades_again(database: Database) -> None:
    await one_session(SessionHistory(database), "123456789", "shop", "alice", 0)
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0002")
        tables = await connection.run_sync(table_names)
    assert "session_history" not in tables
    assert "api_keys" in tables
    await database.migrate()
    assert await SessionHistory(database).search() == []
