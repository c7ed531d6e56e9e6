"""The session state machine: idle -> active -> ended, and every input the rules refuse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from cobrowse.core.session import (
    END_REASON_TEXT,
    AdminEnds,
    AgentJoined,
    AgentJoins,
    AgentReturns,
    CustomerAway,
    CustomerBack,
    CustomerLeaves,
    CustomerReturns,
    Ended,
    EndReason,
    Event,
    Exits,
    InteractionEnds,
    Refusal,
    Role,
    Session,
    SessionState,
    SnapshotNeeded,
    Tick,
)

CREATED = 100.0
JOINED = 200.0
LATER = 300.0


def idle_session() -> Session:
    return Session(id="123456789", site_id="shop", created_at=CREATED)


def active_session(agent_id: str = "alice") -> Session:
    session = idle_session()
    session.handle(AgentJoins(agent_id), JOINED)
    return session


def ended_session(event: Event) -> Session:
    session = active_session()
    session.handle(event, LATER)
    return session


ENDING_EVENTS: list[tuple[Event, EndReason]] = [
    (Exits(Role.CUSTOMER), EndReason.CUSTOMER_EXIT),
    (Exits(Role.AGENT), EndReason.AGENT_EXIT),
    (AdminEnds(), EndReason.ADMIN_ENDED),
    (InteractionEnds(), EndReason.INTERACTION_ENDED),
]

ALL_EVENTS: list[Event] = [
    AgentJoins("alice"),
    AgentJoins("bob"),
    AgentReturns("alice"),
    AgentReturns("bob"),
    Exits(Role.CUSTOMER),
    Exits(Role.AGENT),
    CustomerLeaves(),
    AdminEnds(),
    InteractionEnds(),
]


# A new session --------------------------------------------------------------------


def test_new_session_is_idle_and_live_with_no_agent() -> None:
    session = idle_session()
    assert session.state is SessionState.IDLE
    assert session.live
    assert session.agent_id is None
    assert session.joined_at is None
    assert session.ended_at is None
    assert session.end_reason is None


# idle -> active ---------------------------------------------------------------------


def test_agent_joining_an_idle_session_makes_it_active() -> None:
    session = idle_session()
    effects = session.handle(AgentJoins("alice"), JOINED)
    assert effects == [AgentJoined("alice")]
    assert session.state is SessionState.ACTIVE
    assert session.live
    assert session.agent_id == "alice"


def test_join_time_is_recorded_from_now() -> None:
    session = idle_session()
    session.handle(AgentJoins("alice"), JOINED)
    assert session.joined_at == JOINED
    assert session.created_at == CREATED
    assert session.ended_at is None


def test_a_join_binds_an_unbound_session_to_the_agents_interaction() -> None:
    session = idle_session()
    session.handle(AgentJoins("alice", "call-1"), JOINED)
    assert session.interaction_id == "call-1"


def test_a_session_bound_from_its_start_keeps_its_interaction() -> None:
    session = dataclasses.replace(idle_session(), interaction_id="chat-1")
    session.handle(AgentJoins("alice", "call-2"), JOINED)
    assert session.interaction_id == "chat-1"


def test_second_agent_cannot_join_an_active_session() -> None:
    session = active_session("alice")
    with pytest.raises(Refusal) as refused:
        session.handle(AgentJoins("bob"), LATER)
    assert refused.value.code == "session_taken"
    assert session.agent_id == "alice"
    assert session.state is SessionState.ACTIVE


def test_same_agent_joining_again_only_asks_for_a_snapshot() -> None:
    session = active_session("alice")
    before = dataclasses.replace(session)
    effects = session.handle(AgentJoins("alice"), LATER)
    assert effects == [SnapshotNeeded()]
    assert session == before
    assert session.joined_at == JOINED


# Agent returns ----------------------------------------------------------------------


def test_own_agent_returning_asks_for_a_snapshot() -> None:
    session = active_session("alice")
    before = dataclasses.replace(session)
    effects = session.handle(AgentReturns("alice"), LATER)
    assert effects == [SnapshotNeeded()]
    assert session == before


def test_another_agent_cannot_return_to_a_session() -> None:
    session = active_session("alice")
    with pytest.raises(Refusal) as refused:
        session.handle(AgentReturns("bob"), LATER)
    assert refused.value.code == "not_your_session"


def test_no_agent_can_return_to_an_idle_session() -> None:
    session = idle_session()
    with pytest.raises(Refusal) as refused:
        session.handle(AgentReturns("alice"), LATER)
    assert refused.value.code == "not_your_session"
    assert session.state is SessionState.IDLE
    assert session.agent_id is None


# active -> ended --------------------------------------------------------------------


@pytest.mark.parametrize(("event", "reason"), ENDING_EVENTS)
def test_active_session_ends_with_the_matching_reason(event: Event, reason: EndReason) -> None:
    session = active_session()
    effects = session.handle(event, LATER)
    assert effects == [Ended(reason)]
    assert session.state is SessionState.ENDED
    assert not session.live
    assert session.end_reason is reason
    assert session.ended_at == LATER


def test_customer_exit_ends_an_active_session_as_customer_exit() -> None:
    session = active_session()
    assert session.handle(Exits(Role.CUSTOMER), LATER) == [Ended(EndReason.CUSTOMER_EXIT)]


def test_agent_exit_ends_an_active_session_as_agent_exit() -> None:
    session = active_session()
    assert session.handle(Exits(Role.AGENT), LATER) == [Ended(EndReason.AGENT_EXIT)]


def test_customer_leaving_ends_an_active_session_only_after_the_grace_period() -> None:
    session = active_session()
    assert session.handle(CustomerLeaves(), LATER) == [CustomerAway()]
    assert session.state is SessionState.ACTIVE
    assert session.next_deadline() == LATER + session.customer_grace
    assert session.handle(Tick(), LATER + session.customer_grace - 0.1) == []
    assert session.handle(Tick(), LATER + session.customer_grace) == [
        Ended(EndReason.CUSTOMER_LEFT)
    ]
    assert session.ended_at == LATER + session.customer_grace


def test_customer_who_comes_back_in_time_keeps_the_session() -> None:
    session = active_session()
    session.handle(CustomerLeaves(), LATER)
    assert session.handle(CustomerReturns(session.resume_token), LATER + 1) == [CustomerBack()]
    assert session.customer_away_since is None
    assert session.handle(Tick(), LATER + 10 * session.customer_grace) == []
    assert session.state is SessionState.ACTIVE
    assert session.agent_id == "alice"


def test_leaving_twice_keeps_the_first_deadline() -> None:
    session = active_session()
    session.handle(CustomerLeaves(), LATER)
    assert session.handle(CustomerLeaves(), LATER + 5) == []
    assert session.next_deadline() == LATER + session.customer_grace


def test_a_page_without_the_resume_token_cannot_take_over() -> None:
    session = active_session()
    session.handle(CustomerLeaves(), LATER)
    with pytest.raises(Refusal) as refused:
        session.handle(CustomerReturns("guessed"), LATER + 1)
    assert refused.value.code == "bad_resume"
    assert session.customer_away_since == LATER


def test_a_new_page_may_take_over_before_the_old_one_is_gone() -> None:
    session = active_session()
    assert session.handle(CustomerReturns(session.resume_token), LATER) == []
    assert session.customer_away_since is None


def test_tick_before_any_deadline_changes_nothing() -> None:
    session = active_session()
    assert session.handle(Tick(), LATER + 1) == []
    assert session.state is SessionState.ACTIVE


def test_ending_keeps_who_joined_and_when() -> None:
    session = active_session("alice")
    session.handle(Exits(Role.CUSTOMER), LATER)
    assert session.agent_id == "alice"
    assert session.joined_at == JOINED
    assert session.created_at == CREATED


# idle -> ended ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (Exits(Role.CUSTOMER), EndReason.CUSTOMER_EXIT),
    ],
)
def test_customer_can_end_an_idle_session(event: Event, reason: EndReason) -> None:
    session = idle_session()
    effects = session.handle(event, LATER)
    assert effects == [Ended(reason)]
    assert session.state is SessionState.ENDED
    assert session.end_reason is reason
    assert session.ended_at == LATER
    assert session.joined_at is None
    assert session.agent_id is None


def test_idle_session_whose_customer_left_ends_after_the_grace_period() -> None:
    session = idle_session()
    assert session.handle(CustomerLeaves(), LATER) == [CustomerAway()]
    assert session.handle(Tick(), LATER + session.customer_grace) == [
        Ended(EndReason.CUSTOMER_LEFT)
    ]
    assert session.agent_id is None


# Ended is final ---------------------------------------------------------------------


@pytest.mark.parametrize("ending", [event for event, _ in ENDING_EVENTS])
@pytest.mark.parametrize("event", ALL_EVENTS)
def test_ended_session_refuses_every_event(ending: Event, event: Event) -> None:
    session = ended_session(ending)
    before = dataclasses.replace(session)
    with pytest.raises(Refusal) as refused:
        session.handle(event, LATER + 1)
    assert refused.value.code == "session_ended"
    assert session == before


@pytest.mark.parametrize("event", ALL_EVENTS)
def test_session_ended_while_idle_refuses_every_event(event: Event) -> None:
    session = idle_session()
    session.handle(Exits(Role.CUSTOMER), LATER)
    with pytest.raises(Refusal) as refused:
        session.handle(event, LATER + 1)
    assert refused.value.code == "session_ended"
    assert session.state is SessionState.ENDED


def test_ending_twice_keeps_the_first_reason_and_time() -> None:
    session = ended_session(Exits(Role.AGENT))
    with pytest.raises(Refusal):
        session.handle(Exits(Role.CUSTOMER), LATER + 1)
    assert session.end_reason is EndReason.AGENT_EXIT
    assert session.ended_at == LATER


# Refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_factory", "event"),
    [
        (active_session, AgentJoins("bob")),
        (active_session, AgentReturns("bob")),
        (idle_session, AgentReturns("alice")),
        (lambda: ended_session(Exits(Role.CUSTOMER)), AgentJoins("alice")),
    ],
)
def test_refused_event_changes_nothing(
    session_factory: Callable[[], Session], event: Event
) -> None:
    session = session_factory()
    before = dataclasses.replace(session)
    with pytest.raises(Refusal):
        session.handle(event, LATER + 1)
    assert session == before


@pytest.mark.parametrize(
    ("session_factory", "event"),
    [
        (active_session, AgentJoins("bob")),
        (idle_session, AgentReturns("alice")),
        (lambda: ended_session(Exits(Role.CUSTOMER)), CustomerLeaves()),
    ],
)
def test_refusal_text_is_a_sentence_for_a_person(
    session_factory: Callable[[], Session], event: Event
) -> None:
    session = session_factory()
    with pytest.raises(Refusal) as refused:
        session.handle(event, LATER)
    text = refused.value.text
    assert text[0].isupper()
    assert text.endswith(".")
    assert str(refused.value) == text


# End reasons ------------------------------------------------------------------------


def test_every_end_reason_has_a_text() -> None:
    assert set(END_REASON_TEXT) == set(EndReason)


@pytest.mark.parametrize("reason", list(EndReason))
def test_ended_text_is_a_sentence(reason: EndReason) -> None:
    text = Ended(reason).text
    assert text == END_REASON_TEXT[reason]
    assert text[0].isupper()
    assert text.endswith(".")
    assert "session" in text


def test_end_reasons_have_distinct_texts() -> None:
    texts = [Ended(reason).text for reason in EndReason]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(
    ("reason", "value"),
    [
        (EndReason.CUSTOMER_EXIT, "customer_exit"),
        (EndReason.AGENT_EXIT, "agent_exit"),
        (EndReason.CUSTOMER_LEFT, "customer_left"),
    ],
)
def test_end_reason_wire_values_are_stable(reason: EndReason, value: str) -> None:
    assert reason == value


def test_agent_cannot_exit_a_session_no_agent_joined() -> None:
    session = idle_session()
    with pytest.raises(Refusal) as refused:
        session.handle(Exits(Role.AGENT), LATER)
    assert refused.value.code == "no_agent"
    assert session.state is SessionState.IDLE


def test_an_administrator_can_end_an_idle_session_too() -> None:
    session = idle_session()
    assert session.handle(AdminEnds(), LATER) == [Ended(EndReason.ADMIN_ENDED)]
    assert session.state is SessionState.ENDED
    assert END_REASON_TEXT[EndReason.ADMIN_ENDED].startswith("An administrator")
