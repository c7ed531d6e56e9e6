"""Every timeout (PRODUCT.md E2, E3), decided by the pure core from ``now`` alone."""

from __future__ import annotations

import pytest

from cobrowse.core.session import (
    AgentJoins,
    AgentLeaves,
    AgentReturns,
    CustomerLeaves,
    Ended,
    EndReason,
    Session,
    SessionState,
    Tick,
    Timeouts,
)

LIMITS = Timeouts(join=100.0, inactivity=1000.0, customer_grace=30.0, agent_grace=60.0)


def new_session() -> Session:
    return Session(id="123456789", site_id="shop", created_at=0.0, timeouts=LIMITS)


def joined() -> Session:
    session = new_session()
    session.handle(AgentJoins("alice"), 10.0)
    session.touch(10.0)
    return session


def test_defaults_are_documented_values() -> None:
    assert Timeouts() == Timeouts(
        join=300.0, inactivity=1800.0, customer_grace=30.0, agent_grace=60.0
    )


def test_session_nobody_joins_ends_at_the_join_timeout() -> None:
    session = new_session()
    assert session.next_deadline() == 100.0
    assert session.handle(Tick(), 99.9) == []
    assert session.handle(Tick(), 100.0) == [Ended(EndReason.JOIN_TIMEOUT)]


def test_joining_stops_the_join_timeout() -> None:
    session = joined()
    assert session.handle(Tick(), 500.0) == []
    assert session.state is SessionState.ACTIVE


def test_inactivity_ends_a_session_nobody_uses() -> None:
    session = joined()
    assert session.next_deadline() == 1010.0
    assert session.handle(Tick(), 1009.0) == []
    assert session.handle(Tick(), 1010.0) == [Ended(EndReason.INACTIVITY)]


def test_activity_starts_the_inactivity_timeout_over() -> None:
    session = joined()
    session.touch(900.0)
    assert session.handle(Tick(), 1500.0) == []
    assert session.next_deadline() == 1900.0


def test_agent_who_does_not_come_back_ends_the_session() -> None:
    session = joined()
    assert session.handle(AgentLeaves("alice"), 20.0) == []
    assert session.next_deadline() == 80.0
    assert session.handle(Tick(), 79.0) == []
    assert session.handle(Tick(), 80.0) == [Ended(EndReason.AGENT_LEFT)]


def test_agent_who_comes_back_keeps_the_session() -> None:
    session = joined()
    session.handle(AgentLeaves("alice"), 20.0)
    session.handle(AgentReturns("alice"), 50.0)
    assert session.agent_away_since is None
    assert session.handle(Tick(), 200.0) == []


@pytest.mark.parametrize("agent", ["bob", "alice"])
def test_another_agent_leaving_or_an_idle_session_starts_no_agent_grace(agent: str) -> None:
    session = joined() if agent == "bob" else new_session()
    session.handle(AgentLeaves(agent), 20.0)
    assert session.agent_away_since is None


def test_the_earliest_due_timeout_ends_the_session() -> None:
    session = joined()
    session.handle(AgentLeaves("alice"), 20.0)  # due at 80
    session.handle(CustomerLeaves(), 30.0)  # due at 60
    assert session.handle(Tick(), 500.0) == [Ended(EndReason.CUSTOMER_LEFT)]


def test_every_timeout_has_its_own_reason_in_words() -> None:
    from cobrowse.core.session import END_REASON_TEXT

    reasons = {EndReason.JOIN_TIMEOUT, EndReason.INACTIVITY, EndReason.AGENT_LEFT}
    texts = {END_REASON_TEXT[reason] for reason in reasons}
    assert len(texts) == 3
    assert all(text.endswith(".") and " " in text for text in texts)
