"""The Redis live state against a real Redis: the cluster-wide rules, with two
RedisState objects on one prefix standing in for two nodes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis

from cobrowse.core.session import (
    Ended,
    EndReason,
    Exits,
    Refusal,
    Role,
    Tick,
    Timeouts,
    WriteModeRequested,
)
from cobrowse.live.redis_state import RedisState
from tests.cluster import redis_server

TIMEOUTS = Timeouts(join=10, inactivity=100, customer_grace=5, agent_grace=5)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
async def two_nodes(redis_url: str) -> AsyncIterator[tuple[RedisState, RedisState]]:
    prefix = f"cbt{secrets.token_hex(4)}"
    nodes = (
        RedisState(Redis.from_url(redis_url), prefix, TIMEOUTS, 3),
        RedisState(Redis.from_url(redis_url), prefix, TIMEOUTS, 3),
    )
    yield nodes
    cleanup = Redis.from_url(redis_url)
    async for key in cleanup.scan_iter(f"{prefix}:*"):
        await cleanup.delete(key)
    await cleanup.aclose()
    for node in nodes:
        await node.close()


def repeating(*numbers: int) -> Callable[[int], int]:
    sequence = iter(numbers)
    return lambda _span: next(sequence)


async def test_an_id_taken_on_one_node_is_never_given_on_another(redis_url: str) -> None:
    prefix = f"cbt{secrets.token_hex(4)}"
    first = RedisState(Redis.from_url(redis_url), prefix, TIMEOUTS, 3, randbelow=repeating(5))
    second = RedisState(
        Redis.from_url(redis_url), prefix, TIMEOUTS, 3, randbelow=repeating(5, 5, 7)
    )
    try:
        taken = await first.start("shop", 0.0)
        other = await second.start("shop", 0.0)
        assert taken.id == "100000005"
        assert other.id == "100000007", "the second node drew the taken ID and drew again"
    finally:
        await first.close()
        await second.close()


async def test_two_agents_racing_for_one_session_on_two_nodes(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    session = await node_a.start("shop", 0.0)
    results = await asyncio.gather(
        node_a.join(session.id, "alice", 1.0),
        node_b.join(session.id, "bob", 1.0),
        return_exceptions=True,
    )
    refusals = [result for result in results if isinstance(result, Refusal)]
    assert len(refusals) == 1
    assert refusals[0].code == "session_taken"
    stored = await node_b.get(session.id)
    assert stored is not None
    assert stored.agent_id in {"alice", "bob"}


async def test_one_agent_racing_into_two_sessions_gets_one(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    x = await node_a.start("shop", 0.0)
    y = await node_b.start("shop", 0.0)
    results = await asyncio.gather(
        node_a.join(x.id, "alice", 1.0), node_b.join(y.id, "alice", 1.0), return_exceptions=True
    )
    refusals = [result for result in results if isinstance(result, Refusal)]
    assert [refusal.code for refusal in refusals] == ["agent_busy"]


async def test_a_timeout_ends_its_session_once_however_many_nodes_tick(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    session = await node_a.start("shop", 0.0)
    assert await node_b.due(TIMEOUTS.join - 1) == []
    due_a, due_b = await asyncio.gather(node_a.due(TIMEOUTS.join), node_b.due(TIMEOUTS.join))
    assert due_a == due_b == [session.id]

    async def tick(node: RedisState) -> list[object]:
        try:
            return list((await node.apply(session.id, Tick(), TIMEOUTS.join)).effects)
        except Refusal:
            return []

    effects = await asyncio.gather(*(tick(node) for node in (node_a, node_b) for _ in range(3)))
    ends = [effect for effect_list in effects for effect in effect_list]
    assert ends == [Ended(EndReason.JOIN_TIMEOUT)]
    assert await node_a.get(session.id) is None
    assert await node_b.due(1000.0) == []


async def test_activity_on_any_node_pushes_the_inactivity_timeout_back(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    session = await node_a.start("shop", 0.0)
    await node_a.join(session.id, "alice", 1.0)
    await node_b.touch(session.id, 50.0)
    # Due by the stored deadline, but the core finds the session active since 50.
    assert await node_a.due(TIMEOUTS.inactivity) == [session.id]
    outcome = await node_a.apply(session.id, Tick(), TIMEOUTS.inactivity)
    assert outcome.effects == []
    assert await node_a.due(TIMEOUTS.inactivity) == []
    assert await node_a.due(50.0 + TIMEOUTS.inactivity) == [session.id]


async def test_ending_frees_the_agent_for_another_session(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    first = await node_a.start("shop", 0.0)
    await node_a.join(first.id, "alice", 1.0)
    outcome = await node_b.apply(first.id, WriteModeRequested("alice"), 2.0)
    assert outcome.session.write_mode_pending
    assert await node_b.agent_returns("alice", 3.0) is not None
    ended = await node_b.apply(first.id, Exits(Role.CUSTOMER), 4.0)
    assert ended.ended
    second = await node_b.start("shop", 5.0)
    joined = await node_a.join(second.id, "alice", 6.0)
    assert joined.session.agent_id == "alice"
    assert await node_a.agent_returns("nobody", 7.0) is None


async def test_the_interaction_a_session_belongs_to_is_shared(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    chat = await node_a.start("shop", 0.0, "chat-1")
    call = await node_a.start("shop", 0.0)
    await node_b.join(chat.id, "alice", 1.0, "call-9")  # a chat's session keeps its chat
    await node_b.join(call.id, "bob", 1.0, "call-7")
    seen = {session.id: session.interaction_id for session in await node_a.sessions()}
    assert seen == {chat.id: "chat-1", call.id: "call-7"}


async def test_failed_joins_are_throttled_cluster_wide(
    two_nodes: tuple[RedisState, RedisState],
) -> None:
    node_a, node_b = two_nodes
    for node in (node_a, node_b, node_a):
        assert await node.join_allowed("mallory", 10.0)
        await node.join_failed("mallory", 10.0)
    assert not await node_b.join_allowed("mallory", 20.0)
    assert await node_b.join_allowed("mallory", 71.0), "failures older than a minute expire"
