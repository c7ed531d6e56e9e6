"""The registry: unique IDs among live sessions and one live session per agent."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from cobrowse.core.ids import SESSION_ID_PATTERN
from cobrowse.core.registry import SessionRegistry
from cobrowse.core.session import (
    AgentJoined,
    CustomerLeaves,
    CustomerReturns,
    Ended,
    Ending,
    EndReason,
    Exits,
    Refusal,
    Role,
    Session,
    SessionState,
    SnapshotNeeded,
    Timeouts,
)

SPAN = 900_000_000
"""How many nine-digit IDs there are that do not start with 0."""


class ScriptedRandom:
    """A ``randbelow`` that returns the given values in order and records each bound asked."""

    def __init__(self, *values: int) -> None:
        self._values = list(values)
        self.bounds: list[int] = []

    def __call__(self, bound: int) -> int:
        self.bounds.append(bound)
        if not self._values:
            raise AssertionError("randbelow called more often than the test scripted")
        value = self._values.pop(0)
        assert 0 <= value < bound
        return value

    @property
    def unused(self) -> int:
        return len(self._values)


def counting_random() -> Callable[[int], int]:
    """A deterministic ``randbelow`` that never repeats."""
    counter = iter(range(SPAN))
    return lambda bound: next(counter) % bound


@pytest.fixture
def registry() -> SessionRegistry:
    return SessionRegistry(randbelow=counting_random())


def snapshot(registry: SessionRegistry, session_ids: list[str], agents: list[str]) -> object:
    """Everything observable about the registry, copied so later changes show."""

    def copy(session: Session | None) -> Session | None:
        return dataclasses.replace(session) if session is not None else None

    sessions = {session_id: copy(registry.get(session_id)) for session_id in session_ids}
    by_agent = {agent: copy(registry.session_of_agent(agent)) for agent in agents}
    return len(registry), sessions, by_agent


def spaced(session_id: str) -> str:
    return f"{session_id[:3]} {session_id[3:6]} {session_id[6:]}"


def dashed(session_id: str) -> str:
    return f"{session_id[:3]}-{session_id[3:6]}-{session_id[6:]}"


# Starting sessions ------------------------------------------------------------------


def test_started_session_is_idle_live_and_findable(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=10.0)
    assert session.state is SessionState.IDLE
    assert session.site_id == "shop"
    assert session.created_at == 10.0
    assert registry.get(session.id) is session
    assert len(registry) == 1


def test_session_id_is_nine_digits_not_starting_with_zero(registry: SessionRegistry) -> None:
    for _ in range(50):
        session_id = registry.start("shop", now=0.0).id
        assert len(session_id) == 9
        assert session_id.isdigit()
        assert session_id[0] != "0"


@pytest.mark.parametrize("value", [0, 1, SPAN // 2, SPAN - 1])
def test_every_random_draw_gives_a_valid_session_id(value: int) -> None:
    randbelow = ScriptedRandom(value)
    session_id = SessionRegistry(randbelow=randbelow).start("shop", now=0.0).id
    assert SESSION_ID_PATTERN.match(session_id)
    assert randbelow.bounds == [SPAN]


def test_lowest_and_highest_draws_give_the_smallest_and_largest_ids() -> None:
    registry = SessionRegistry(randbelow=ScriptedRandom(0, SPAN - 1))
    assert registry.start("shop", now=0.0).id == "100000000"
    assert registry.start("shop", now=0.0).id == "999999999"


def test_session_ids_are_unique_among_live_sessions() -> None:
    randbelow = ScriptedRandom(7, 7, 7, 8, 7, 8, 9)
    registry = SessionRegistry(randbelow=randbelow)
    ids = [registry.start("shop", now=0.0).id for _ in range(3)]
    assert ids == ["100000007", "100000008", "100000009"]
    assert randbelow.unused == 0
    assert len(registry) == 3


def test_ended_session_id_can_be_given_out_again() -> None:
    registry = SessionRegistry(randbelow=ScriptedRandom(5, 5))
    first = registry.start("shop", now=0.0)
    registry.apply(first.id, Exits(Role.CUSTOMER), now=1.0)
    second = registry.start("shop", now=2.0)
    assert second.id == first.id
    assert second is not first
    assert second.state is SessionState.IDLE


def test_agent_of_an_ended_session_does_not_own_a_new_session_with_its_old_id() -> None:
    registry = SessionRegistry(randbelow=ScriptedRandom(5, 5))
    first = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    registry.apply(first.id, Exits(Role.AGENT), now=2.0)
    second = registry.start("shop", now=3.0)
    assert second.id == first.id
    assert registry.session_of_agent("alice") is None
    assert registry.agent_returns("alice", now=4.0) is None
    outcome = registry.join(second.id, "bob", now=5.0)
    assert outcome.effects == [AgentJoined("bob")]


# Joining ----------------------------------------------------------------------------


def test_agent_joins_an_idle_session(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    outcome = registry.join(session.id, "alice", now=5.0)
    assert outcome.session is session
    assert outcome.effects == [AgentJoined("alice")]
    assert session.state is SessionState.ACTIVE
    assert session.joined_at == 5.0
    assert registry.session_of_agent("alice") is session


@pytest.mark.parametrize("typed", [spaced, dashed, lambda sid: f"  {sid}\t"])
def test_join_accepts_ids_typed_with_spaces_or_dashes(
    registry: SessionRegistry, typed: Callable[[str], str]
) -> None:
    session = registry.start("shop", now=0.0)
    outcome = registry.join(typed(session.id), "alice", now=1.0)
    assert outcome.session is session
    assert registry.session_of_agent("alice") is session


@pytest.mark.parametrize(
    "typed", ["", "12345678", "1234567890", "012345678", "12345678x", "123.456.789", "abc"]
)
def test_join_refuses_text_that_is_not_a_session_id(registry: SessionRegistry, typed: str) -> None:
    registry.start("shop", now=0.0)
    with pytest.raises(Refusal) as refused:
        registry.join(typed, "alice", now=1.0)
    assert refused.value.code == "bad_session_id"
    assert registry.session_of_agent("alice") is None


def test_join_refuses_an_unknown_session(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    unknown = "999999999"
    assert unknown != session.id
    with pytest.raises(Refusal) as refused:
        registry.join(unknown, "alice", now=1.0)
    assert refused.value.code == "no_such_session"
    assert unknown in refused.value.text
    assert session.state is SessionState.IDLE


def test_second_agent_cannot_join_a_taken_session(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    with pytest.raises(Refusal) as refused:
        registry.join(session.id, "bob", now=2.0)
    assert refused.value.code == "session_taken"
    assert session.agent_id == "alice"
    assert registry.session_of_agent("bob") is None


def test_same_agent_joining_its_own_session_again_asks_for_a_snapshot(
    registry: SessionRegistry,
) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    outcome = registry.join(dashed(session.id), "alice", now=2.0)
    assert outcome.session is session
    assert outcome.effects == [SnapshotNeeded()]
    assert session.joined_at == 1.0


# One live session per agent ---------------------------------------------------------


def test_agent_cannot_join_second_session(registry: SessionRegistry) -> None:
    first = registry.start("shop", now=0.0)
    second = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    with pytest.raises(Refusal) as refused:
        registry.join(second.id, "alice", now=2.0)
    assert refused.value.code == "agent_busy"
    assert first.id in refused.value.text
    assert second.state is SessionState.IDLE
    assert second.agent_id is None
    assert registry.session_of_agent("alice") is first


@pytest.mark.parametrize("ending", [Exits(Role.CUSTOMER), Exits(Role.AGENT)], ids=repr)
def test_agent_can_join_another_session_after_its_session_ends(
    registry: SessionRegistry, ending: Ending
) -> None:
    first = registry.start("shop", now=0.0)
    second = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    registry.apply(first.id, ending, now=2.0)
    assert registry.session_of_agent("alice") is None
    outcome = registry.join(second.id, "alice", now=3.0)
    assert outcome.effects == [AgentJoined("alice")]
    assert registry.session_of_agent("alice") is second


def test_other_agents_can_join_other_sessions(registry: SessionRegistry) -> None:
    first = registry.start("shop", now=0.0)
    second = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    registry.join(second.id, "bob", now=1.0)
    assert registry.session_of_agent("alice") is first
    assert registry.session_of_agent("bob") is second


# Refused joins change nothing -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "agent", "code"),
    [
        ("12345", "carol", "bad_session_id"),
        ("999999999", "carol", "no_such_session"),
        ("<second>", "alice", "agent_busy"),
        ("<first>", "bob", "session_taken"),
    ],
)
def test_refused_join_leaves_the_registry_unchanged(
    registry: SessionRegistry, typed: str, agent: str, code: str
) -> None:
    first = registry.start("shop", now=0.0)
    second = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    typed = typed.replace("<first>", first.id).replace("<second>", second.id)
    ids = [first.id, second.id, "999999999"]
    agents = ["alice", "bob", "carol"]
    before = snapshot(registry, ids, agents)
    with pytest.raises(Refusal) as refused:
        registry.join(typed, agent, now=2.0)
    assert refused.value.code == code
    assert snapshot(registry, ids, agents) == before


# Agent returns ----------------------------------------------------------------------


def test_agent_without_a_session_returns_to_nothing(registry: SessionRegistry) -> None:
    registry.start("shop", now=0.0)
    assert registry.agent_returns("alice", now=1.0) is None


def test_agent_returning_gets_its_session_and_a_snapshot(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    outcome = registry.agent_returns("alice", now=2.0)
    assert outcome is not None
    assert outcome.session is session
    assert outcome.effects == [SnapshotNeeded()]


def test_agent_returning_after_its_session_ended_gets_nothing(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    registry.apply(session.id, Exits(Role.CUSTOMER), now=2.0)
    assert registry.agent_returns("alice", now=3.0) is None


# Applying events and forgetting ended sessions --------------------------------------


def test_apply_passes_the_event_to_the_session(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    outcome = registry.apply(session.id, Exits(Role.AGENT), now=2.0)
    assert outcome.session is session
    assert outcome.effects == [Ended(EndReason.AGENT_EXIT)]
    assert session.ended_at == 2.0


def test_apply_to_an_unknown_session_is_refused(registry: SessionRegistry) -> None:
    with pytest.raises(Refusal) as refused:
        registry.apply("123456789", Exits(Role.CUSTOMER), now=1.0)
    assert refused.value.code == "no_such_session"


def test_ended_session_is_forgotten(registry: SessionRegistry) -> None:
    ended = registry.start("shop", now=0.0)
    kept = registry.start("shop", now=0.0)
    registry.apply(ended.id, Exits(Role.CUSTOMER), now=1.0)
    assert registry.get(ended.id) is None
    assert registry.get(kept.id) is kept
    assert len(registry) == 1


def test_old_session_id_is_unknown_after_the_session_ends(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    registry.apply(session.id, Exits(Role.CUSTOMER), now=2.0)
    with pytest.raises(Refusal) as joining:
        registry.join(session.id, "bob", now=3.0)
    assert joining.value.code == "no_such_session"
    with pytest.raises(Refusal) as applying:
        registry.apply(session.id, Exits(Role.CUSTOMER), now=3.0)
    assert applying.value.code == "no_such_session"


def test_event_that_does_not_end_a_session_keeps_it(registry: SessionRegistry) -> None:
    session = registry.start("shop", now=0.0)
    registry.join(session.id, "alice", now=1.0)
    with pytest.raises(Refusal):
        registry.join(session.id, "bob", now=2.0)
    assert registry.get(session.id) is session
    assert registry.session_of_agent("alice") is session


def test_ending_one_session_keeps_the_other_agents_session(registry: SessionRegistry) -> None:
    first = registry.start("shop", now=0.0)
    second = registry.start("shop", now=0.0)
    registry.join(first.id, "alice", now=1.0)
    registry.join(second.id, "bob", now=1.0)
    registry.apply(first.id, Exits(Role.AGENT), now=2.0)
    assert registry.session_of_agent("alice") is None
    assert registry.session_of_agent("bob") is second


def test_registry_starts_empty() -> None:
    registry = SessionRegistry()
    assert len(registry) == 0
    assert registry.get("123456789") is None
    assert registry.session_of_agent("alice") is None


def test_default_random_gives_valid_distinct_ids() -> None:
    registry = SessionRegistry()
    sessions: list[Session] = [registry.start("shop", now=0.0) for _ in range(100)]
    assert all(SESSION_ID_PATTERN.match(session.id) for session in sessions)
    assert len({session.id for session in sessions}) == len(sessions) == len(registry)


def test_tick_ends_the_sessions_whose_customer_did_not_come_back() -> None:
    registry = SessionRegistry(timeouts=Timeouts(customer_grace=10.0))
    gone = registry.start("shop", now=0.0)
    back = registry.start("shop", now=0.0)
    staying = registry.start("shop", now=0.0)
    registry.join(gone.id, "alice", now=1.0)
    registry.apply(gone.id, CustomerLeaves(), now=2.0)
    registry.apply(back.id, CustomerLeaves(), now=2.0)
    registry.apply(back.id, CustomerReturns(back.resume_token), now=5.0)
    assert registry.tick(now=11.9) == []
    outcomes = registry.tick(now=12.0)
    assert [outcome.session.id for outcome in outcomes] == [gone.id]
    assert outcomes[0].effects == [Ended(EndReason.CUSTOMER_LEFT)]
    assert registry.get(gone.id) is None
    assert registry.session_of_agent("alice") is None
    assert registry.get(back.id) is back
    assert registry.get(staying.id) is staying
