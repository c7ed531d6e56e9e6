"""The interactions store, session binding, the co-browse report and migration 0005, on
SQLite and PostgreSQL (see tests/databases.py for how PostgreSQL is reached)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect, text

from cobrowse.core.interactions import InteractionKind, InteractionState
from cobrowse.store.db import Database
from cobrowse.store.history import SessionHistory
from cobrowse.store.interactions import (
    CobrowseReport,
    CobrowseSession,
    Interaction,
    InteractionAlreadyEnded,
    InteractionStore,
    InvalidInteraction,
    SessionNotBindable,
    UnknownAgent,
    UnknownInteraction,
    UnknownInteractionSite,
)
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserRole, UserStore
from tests.integration.test_restrictions_store import alembic

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHAT = InteractionKind.CHAT
VOICE = InteractionKind.VOICE


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def store(database: Database) -> InteractionStore:
    users = UserStore(database)
    for name in ("alice", "bob"):
        await users.add(name, UserRole.AGENT, "correct horse battery")
    await SiteStore(database).add("shop", ["https://shop.example"])
    return InteractionStore(database)


async def test_an_interaction_is_created_open_and_read_back(store: InteractionStore) -> None:
    created = await store.create(VOICE, "alice", " CRM-48213 ", "shop", at=at(0))
    assert created == Interaction(
        id=created.id,
        kind=VOICE,
        state=InteractionState.OPEN,
        agent="alice",
        customer_reference="CRM-48213",
        site="shop",
        created_at=at(0),
        ended_at=None,
        ended_by=None,
    )
    assert created.id.startswith("int_")
    assert await store.get(created.id) == created
    assert created.to_json() == {
        "id": created.id,
        "kind": "voice",
        "state": "open",
        "agent": "alice",
        "customer_reference": "CRM-48213",
        "site": "shop",
        "created_at": "2026-12-01T09:00:00Z",
        "ended_at": None,
        "ended_by": None,
    }


async def test_a_chat_may_wait_in_a_queue_without_agent_then_get_one(
    store: InteractionStore,
) -> None:
    queued = await store.create(CHAT)
    assert (queued.agent, queued.customer_reference, queued.site) == (None, None, None)
    assert (await store.assign_agent(queued.id, "bob")).agent == "bob"
    assert (await store.assign_agent(queued.id, "alice")).agent == "alice"  # transferred
    assert (await store.get(queued.id)).agent == "alice"


async def test_unknown_agents_sites_and_bad_references_are_refused(
    store: InteractionStore,
) -> None:
    with pytest.raises(UnknownAgent, match="there is no user named 'mallory'") as refused:
        await store.create(VOICE, "mallory")
    assert refused.value.username == "mallory"
    with pytest.raises(UnknownInteractionSite, match="'blog'"):
        await store.create(VOICE, "alice", site="blog")
    with pytest.raises(InvalidInteraction, match="at most 200"):
        await store.create(VOICE, "alice", "x" * 201)
    with pytest.raises(InvalidInteraction, match="control characters"):
        await store.create(VOICE, "alice", "a\nb")
    interaction = await store.create(CHAT)
    with pytest.raises(UnknownAgent):
        await store.assign_agent(interaction.id, "mallory")
    assert await store.list() == [interaction]


async def test_unknown_ids_are_refused(store: InteractionStore) -> None:
    for attempt in (
        store.get("int_nope"),
        store.end("int_nope", "api:test"),
        store.assign_agent("int_nope", "alice"),
        store.cobrowse_report("int_nope"),
        store.bind_session("123456789", "int_nope"),
    ):
        with pytest.raises(UnknownInteraction, match="there is no interaction 'int_nope'"):
            await attempt


async def test_ending_is_final_and_idempotent(store: InteractionStore) -> None:
    interaction = await store.create(VOICE, "alice", at=at(0))
    first = await store.end(interaction.id, "api:crm", at=at(7))
    assert first.ended_now
    assert first.interaction.state is InteractionState.ENDED
    assert (first.interaction.ended_at, first.interaction.ended_by) == (at(7), "api:crm")

    again = await store.end(interaction.id, "api:other", at=at(9))
    assert not again.ended_now
    assert again.interaction == first.interaction, "the first end stands"
    with pytest.raises(InteractionAlreadyEnded, match="has ended"):
        await store.assign_agent(interaction.id, "bob")


async def test_concurrent_ends_end_it_once(store: InteractionStore) -> None:
    interaction = await store.create(VOICE, "alice")
    endings = await asyncio.gather(*(store.end(interaction.id, f"api:{n}") for n in range(5)))
    assert sum(ending.ended_now for ending in endings) == 1
    assert len({ending.interaction.ended_by for ending in endings}) == 1


async def test_listing_filters_and_orders_newest_first(store: InteractionStore) -> None:
    chat_alice = await store.create(CHAT, "alice", at=at(0))
    voice_alice = await store.create(VOICE, "alice", at=at(1))
    voice_bob = await store.create(VOICE, "bob", at=at(2))
    queued = await store.create(CHAT, at=at(3))
    await store.end(voice_alice.id, "api:crm")

    def ids(found: list[Interaction]) -> list[str]:
        return [interaction.id for interaction in found]

    assert ids(await store.list()) == [queued.id, voice_bob.id, voice_alice.id, chat_alice.id]
    assert ids(await store.list(state=InteractionState.OPEN)) == [
        queued.id,
        voice_bob.id,
        chat_alice.id,
    ]
    assert ids(await store.list(state=InteractionState.ENDED)) == [voice_alice.id]
    assert ids(await store.list(agent="alice")) == [voice_alice.id, chat_alice.id]
    assert ids(await store.list(kind=VOICE)) == [voice_bob.id, voice_alice.id]
    assert ids(await store.list(agent="alice", kind=CHAT)) == [chat_alice.id]
    assert ids(await store.list(limit=2)) == [queued.id, voice_bob.id]
    with pytest.raises(ValueError, match="limit"):
        await store.list(limit=0)


async def test_the_open_interactions_of_an_agent(store: InteractionStore) -> None:
    chat = await store.create(CHAT, "alice", at=at(0))
    old_call = await store.create(VOICE, "alice", at=at(1))
    call = await store.create(VOICE, "alice", at=at(2))
    await store.create(VOICE, "bob", at=at(3))
    await store.end(old_call.id, "api:crm")

    assert [i.id for i in await store.open_for_agent("alice")] == [call.id, chat.id]
    assert [i.id for i in await store.open_for_agent("alice", VOICE)] == [call.id]
    assert [i.id for i in await store.open_for_agent("alice", CHAT)] == [chat.id]
    assert await store.open_for_agent("carol") == []


async def test_a_live_session_is_bound_and_reported(
    store: InteractionStore, database: Database
) -> None:
    history = SessionHistory(database)
    interaction = await store.create(VOICE, "alice", at=at(0))
    assert await store.cobrowse_report(interaction.id) == CobrowseReport(())

    # One the agent never joined, then one with a declined write-mode request.
    await history.started("111111111", "shop", at(1))
    await store.bind_session("111111111", interaction.id)
    await history.ended("111111111", "join_timeout", at(6))
    await history.started("222222222", "shop", at(10))
    await store.bind_session("222222222", interaction.id)
    await store.bind_session("222222222", interaction.id)  # again: harmless
    await history.joined("222222222", "alice", at(11))
    await history.write_mode_requested("222222222")
    await history.write_mode_answered("222222222", accepted=False)
    assert await store.live_session_ids(interaction.id) == ["222222222"]

    report = await store.cobrowse_report(interaction.id)
    assert report.sessions == (
        CobrowseSession("111111111", None, at(1), None, at(6), "join_timeout", False),
        CobrowseSession("222222222", "alice", at(10), at(11), None, None, True),
    )
    assert report.co_browsed
    assert report.session_count == 2
    assert report.sessions[0].duration_seconds == 300.0
    assert report.sessions[1].duration_seconds is None

    await history.ended("222222222", "interaction_ended", at(12.5))
    assert await store.live_session_ids(interaction.id) == []
    assert report.to_json()["session_count"] == 2
    final = (await store.cobrowse_report(interaction.id)).to_json()
    assert final["co_browsed"] is True
    assert final["sessions"] == [
        {
            "session_id": "111111111",
            "agent": None,
            "started_at": "2026-12-01T09:01:00Z",
            "joined_at": None,
            "ended_at": "2026-12-01T09:06:00Z",
            "duration_seconds": 300.0,
            "end_reason": "join_timeout",
            "write_mode_declined": False,
        },
        {
            "session_id": "222222222",
            "agent": "alice",
            "started_at": "2026-12-01T09:10:00Z",
            "joined_at": "2026-12-01T09:11:00Z",
            "ended_at": "2026-12-01T09:12:30Z",
            "duration_seconds": 150.0,
            "end_reason": "interaction_ended",
            "write_mode_declined": True,
        },
    ]
    [newest, _] = await history.search()
    assert newest.interaction_id == interaction.id


async def test_sessions_nobody_joined_are_counted_but_are_not_co_browsing(
    store: InteractionStore, database: Database
) -> None:
    history = SessionHistory(database)
    interaction = await store.create(CHAT, "alice")
    await history.started("111111111", "shop", at(0))
    await store.bind_session("111111111", interaction.id)
    await history.ended("111111111", "customer_exit", at(1))
    report = await store.cobrowse_report(interaction.id)
    assert (report.co_browsed, report.session_count) == (False, 1)


async def test_binding_reaches_only_the_live_session_of_a_reused_id(
    store: InteractionStore, database: Database
) -> None:
    history = SessionHistory(database)
    earlier = await store.create(VOICE, "alice")
    later = await store.create(VOICE, "alice")
    await history.started("111111111", "shop", at(0))
    await store.bind_session("111111111", earlier.id)
    await history.ended("111111111", "agent_exit", at(1))
    await history.started("111111111", "shop", at(2))  # the ID comes back
    await store.bind_session("111111111", later.id)

    assert [s.started_at for s in (await store.cobrowse_report(earlier.id)).sessions] == [at(0)]
    assert [s.started_at for s in (await store.cobrowse_report(later.id)).sessions] == [at(2)]


async def test_binding_is_refused_when_it_cannot_hold(
    store: InteractionStore, database: Database
) -> None:
    history = SessionHistory(database)
    interaction = await store.create(VOICE, "alice")
    other = await store.create(CHAT, "alice")
    with pytest.raises(SessionNotBindable, match="no co-browse session 123456789 is live"):
        await store.bind_session("123456789", interaction.id)

    await history.started("123456789", "shop", at(0))
    await store.bind_session("123456789", other.id)
    with pytest.raises(SessionNotBindable, match="belongs to another interaction"):
        await store.bind_session("123456789", interaction.id)

    await history.started("222222222", "shop", at(0))
    await store.end(interaction.id, "api:crm")
    with pytest.raises(InteractionAlreadyEnded):
        await store.bind_session("222222222", interaction.id)
    assert (await store.cobrowse_report(interaction.id)).session_count == 0


async def test_a_binding_racing_an_end_is_refused_or_seen_by_it(
    store: InteractionStore, database: Database
) -> None:
    """Whichever comes first, no session stays bound, live and unseen by the end."""
    history = SessionHistory(database)
    for round_number in range(5):
        session_id = f"30000000{round_number}"
        interaction = await store.create(VOICE, "alice")
        await history.started(session_id, "shop", at(round_number))

        async def bind(session_id: str = session_id, interaction_id: str = interaction.id) -> bool:
            try:
                await store.bind_session(session_id, interaction_id)
            except InteractionAlreadyEnded:
                return False
            return True

        async def end_then_look(interaction_id: str = interaction.id) -> list[str]:
            await store.end(interaction_id, "api:crm")
            return await store.live_session_ids(interaction_id)

        bound, seen_by_end = await asyncio.gather(bind(), end_then_look())
        assert seen_by_end == ([session_id] if bound else [])
        await history.ended(session_id, "customer_exit", at(round_number + 1))


def columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migration_0005_downgrades_and_upgrades_again(
    store: InteractionStore, database: Database
) -> None:
    history = SessionHistory(database)
    interaction = await store.create(VOICE, "alice")
    await history.started("123456789", "shop", at(0))
    await store.bind_session("123456789", interaction.id)
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0003")
        after_downgrade = await connection.run_sync(tables)
        history_columns = await connection.run_sync(columns, "session_history")
        kept = (await connection.scalars(text("SELECT session_id FROM session_history"))).all()
    assert not after_downgrade & {"interactions", "webhook_subscriptions", "webhook_deliveries"}
    assert "interaction_id" not in history_columns
    assert kept == ["123456789"], "the history survives"

    await database.migrate()
    assert await store.list() == []
    [record] = await history.search()
    assert (record.session_id, record.interaction_id) == ("123456789", None)
    fresh = await store.create(VOICE, "alice")
    await store.bind_session("123456789", fresh.id)
    assert (await store.cobrowse_report(fresh.id)).session_count == 1
