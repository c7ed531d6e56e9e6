"""The web chat's store on SQLite and PostgreSQL: the customer's token, accepting a
waiting chat (one agent wins), messages, and migration 0006."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from cobrowse.core.chat import ChatRefused, Sender
from cobrowse.core.interactions import InteractionKind, InteractionState
from cobrowse.store.chats import ChatStore, hash_token
from cobrowse.store.db import Database
from cobrowse.store.interactions import InteractionStore
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserRole, UserStore
from tests.integration.test_restrictions_store import alembic, table_names


@pytest.fixture
async def chats(database: Database) -> ChatStore:
    users = UserStore(database)
    for name in ("alice", "bob"):
        await users.add(name, UserRole.AGENT, "correct horse battery")
    await SiteStore(database).add("shop", ["https://shop.example"])
    return ChatStore(database)


async def new_chat(
    database: Database, chats: ChatStore, name: str | None = "Ada"
) -> tuple[str, str]:
    interaction = await InteractionStore(database).create(
        InteractionKind.CHAT, customer_reference=name, site="shop"
    )
    return interaction.id, await chats.open_chat(interaction.id, name)


async def test_token_proves_ownership_and_is_stored_hashed(
    database: Database, chats: ChatStore
) -> None:
    chat_id, token = await new_chat(database, chats)
    owned = await chats.owned(chat_id, token)
    assert owned is not None
    assert (owned.site, owned.customer_name, owned.agent) == ("shop", "Ada", None)
    assert await chats.owned(chat_id, token + "x") is None
    assert await chats.owned("int_nope", token) is None
    async with database.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT token_hash FROM chats"))).scalar_one()
    assert stored == hash_token(token)
    assert token not in stored


async def test_two_agents_accept_at_once_and_exactly_one_wins(
    database: Database, chats: ChatStore
) -> None:
    chat_id, _ = await new_chat(database, chats)
    assert [chat.id for chat in await chats.queue()] == [chat_id]
    outcomes = await asyncio.gather(
        chats.accept(chat_id, "alice"), chats.accept(chat_id, "bob"), return_exceptions=True
    )
    winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ChatRefused)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].code == "chat_taken"
    winner = winners[0].agent
    assert winner in {"alice", "bob"}
    assert await chats.queue() == []
    assert [chat.id for chat in await chats.of_agent(winner)] == [chat_id]
    # Accepting one's own chat again is harmless.
    assert (await chats.accept(chat_id, winner)).agent == winner


async def test_an_ended_chat_cannot_be_accepted(database: Database, chats: ChatStore) -> None:
    chat_id, _ = await new_chat(database, chats)
    await InteractionStore(database).end(chat_id, "customer")
    with pytest.raises(ChatRefused) as refused:
        await chats.accept(chat_id, "alice")
    assert refused.value.code == "chat_ended"
    ended = await chats.get(chat_id)
    assert ended is not None
    assert ended.state is InteractionState.ENDED
    assert await chats.queue() == []


async def test_messages_in_order_with_the_cobrowse_request(
    database: Database, chats: ChatStore
) -> None:
    chat_id, _ = await new_chat(database, chats)
    await chats.add_message(chat_id, Sender.CUSTOMER, "Ada", "Hello")
    await chats.add_message(chat_id, Sender.AGENT, "alice", "Hi Ada")
    await chats.add_message(chat_id, Sender.SYSTEM, None, "Co-browse?", session_id="123456789")
    messages = await chats.messages(chat_id)
    assert [(m.sender, m.text, m.session_id) for m in messages] == [
        (Sender.CUSTOMER, "Hello", None),
        (Sender.AGENT, "Hi Ada", None),
        (Sender.SYSTEM, "Co-browse?", "123456789"),
    ]
    assert [m.text for m in await chats.messages(chat_id, limit=2)] == ["Hi Ada", "Co-browse?"]


async def test_migration_0006_downgrades_and_upgrades_again(
    database: Database, chats: ChatStore
) -> None:
    chat_id, _ = await new_chat(database, chats)
    await chats.add_message(chat_id, Sender.CUSTOMER, "Ada", "Hello")
    async with database.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0005")
        after = await connection.run_sync(table_names)
    assert not after & {"chats", "chat_messages"}
    assert "interactions" in after
    await database.migrate()
    assert await chats.get(chat_id) is None
    fresh, token = await new_chat(database, chats)
    assert await chats.owned(fresh, token) is not None
