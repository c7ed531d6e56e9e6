"""Pointer and write mode (PRODUCT.md M1-M3) in the pure session core."""

from __future__ import annotations

import pytest

from cobrowse.core.session import (
    AgentJoins,
    Exits,
    Mode,
    ModeChanged,
    PointerModeChosen,
    Refusal,
    Role,
    Session,
    WriteModeAnswered,
    WriteModeAsked,
    WriteModeDeclined,
    WriteModeRequested,
)


def active() -> Session:
    session = Session(id="123456789", site_id="shop", created_at=0.0)
    session.handle(AgentJoins("alice"), 1.0)
    return session


def in_write_mode() -> Session:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    session.handle(WriteModeAnswered(accepted=True), 3.0)
    return session


def test_every_session_starts_in_pointer_mode() -> None:
    assert active().mode is Mode.POINTER
    assert Session(id="123456789", site_id="shop", created_at=0.0).mode is Mode.POINTER


def test_agent_request_asks_the_customer() -> None:
    session = active()
    assert session.handle(WriteModeRequested("alice"), 2.0) == [WriteModeAsked()]
    assert session.write_mode_pending
    assert session.mode is Mode.POINTER


def test_accepting_switches_both_to_write_mode() -> None:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    assert session.handle(WriteModeAnswered(accepted=True), 3.0) == [
        ModeChanged(Mode.WRITE, Role.CUSTOMER)
    ]
    assert session.mode is Mode.WRITE
    assert not session.write_mode_pending


def test_declining_leaves_pointer_mode_and_tells_the_agent() -> None:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    assert session.handle(WriteModeAnswered(accepted=False), 3.0) == [WriteModeDeclined()]
    assert session.mode is Mode.POINTER
    assert not session.write_mode_pending


def test_agent_can_ask_again_after_a_decline() -> None:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    session.handle(WriteModeAnswered(accepted=False), 3.0)
    assert session.handle(WriteModeRequested("alice"), 4.0) == [WriteModeAsked()]


def test_agent_cannot_ask_twice_while_waiting() -> None:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    with pytest.raises(Refusal) as refused:
        session.handle(WriteModeRequested("alice"), 2.5)
    assert refused.value.code == "already_asked"


def test_agent_cannot_ask_for_write_mode_it_already_has() -> None:
    with pytest.raises(Refusal) as refused:
        in_write_mode().handle(WriteModeRequested("alice"), 4.0)
    assert refused.value.code == "already_write_mode"


@pytest.mark.parametrize("agent", ["bob", "mallory"])
def test_only_the_sessions_agent_can_ask(agent: str) -> None:
    with pytest.raises(Refusal) as refused:
        active().handle(WriteModeRequested(agent), 2.0)
    assert refused.value.code == "not_your_session"


def test_nobody_can_ask_before_an_agent_joined() -> None:
    idle = Session(id="123456789", site_id="shop", created_at=0.0)
    with pytest.raises(Refusal):
        idle.handle(WriteModeRequested("alice"), 1.0)


@pytest.mark.parametrize("accepted", [True, False])
def test_an_answer_without_a_request_is_refused(accepted: bool) -> None:
    session = active()
    with pytest.raises(Refusal) as refused:
        session.handle(WriteModeAnswered(accepted), 2.0)
    assert refused.value.code == "nothing_to_answer"
    assert session.mode is Mode.POINTER


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
def test_either_side_returns_to_pointer_mode_with_one_step(role: Role) -> None:
    session = in_write_mode()
    assert session.handle(PointerModeChosen(role), 4.0) == [ModeChanged(Mode.POINTER, role)]
    assert session.mode is Mode.POINTER


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
def test_choosing_pointer_mode_in_pointer_mode_changes_nothing(role: Role) -> None:
    session = active()
    assert session.handle(PointerModeChosen(role), 2.0) == []
    assert session.mode is Mode.POINTER


def test_customer_choosing_pointer_mode_while_asked_declines() -> None:
    session = active()
    session.handle(WriteModeRequested("alice"), 2.0)
    assert session.handle(PointerModeChosen(Role.CUSTOMER), 3.0) == [WriteModeDeclined()]
    assert not session.write_mode_pending
    with pytest.raises(Refusal):
        session.handle(WriteModeAnswered(accepted=True), 4.0)


def test_write_mode_can_be_asked_for_again_after_returning_to_pointer() -> None:
    session = in_write_mode()
    session.handle(PointerModeChosen(Role.AGENT), 4.0)
    assert session.handle(WriteModeRequested("alice"), 5.0) == [WriteModeAsked()]


def test_modes_end_with_the_session() -> None:
    session = in_write_mode()
    session.handle(Exits(Role.CUSTOMER), 4.0)
    with pytest.raises(Refusal) as refused:
        session.handle(PointerModeChosen(Role.AGENT), 5.0)
    assert refused.value.code == "session_ended"
