"""The web chat's pure rules: message and name cleaning, words for the end, the rate."""

from __future__ import annotations

import pytest

from cobrowse.core.chat import (
    MAX_MESSAGE_LENGTH,
    ChatRefused,
    MessageRate,
    clean_name,
    clean_text,
    ended_by_side,
    ended_text,
)


def test_text_is_trimmed_and_keeps_line_breaks_but_no_control_characters() -> None:
    assert clean_text("  Hello\nthere\x00\x1b  ") == "Hello\nthere"


@pytest.mark.parametrize("empty", ["", "   ", "\x00\x07"])
def test_empty_text_is_refused(empty: str) -> None:
    with pytest.raises(ChatRefused) as refused:
        clean_text(empty)
    assert refused.value.code == "empty_message"


def test_text_longer_than_the_limit_is_refused() -> None:
    assert clean_text("x" * MAX_MESSAGE_LENGTH) == "x" * MAX_MESSAGE_LENGTH
    with pytest.raises(ChatRefused) as refused:
        clean_text("x" * (MAX_MESSAGE_LENGTH + 1))
    assert refused.value.code == "message_too_long"


def test_name_is_one_bounded_line_or_none() -> None:
    assert clean_name(" Ada\n Lovelace ") == "Ada Lovelace"
    assert clean_name("   ") is None
    assert clean_name(None) is None
    assert clean_name("x" * 200) == "x" * 80


def test_each_side_is_told_who_ended_the_chat() -> None:
    assert ended_by_side("customer") == "customer"
    assert ended_by_side("agent:alice") == "agent"
    assert ended_by_side("api:crm") == "system"
    assert ended_text("customer", reader_is_customer=True) == "You ended the chat."
    assert ended_text("customer", reader_is_customer=False) == "The customer ended the chat."
    assert ended_text("agent", reader_is_customer=True) == "The agent ended the chat."
    assert ended_text("agent", reader_is_customer=False) == "You ended the chat."
    assert ended_text("system", reader_is_customer=True) == "The chat has ended."
    assert ended_text("system", reader_is_customer=False) == "The chat has ended."


def test_message_rate_allows_a_burst_then_refuses_until_the_window_passes() -> None:
    rate = MessageRate(limit=3, window=10.0)
    assert [rate.allows(0.0), rate.allows(1.0), rate.allows(2.0)] == [True, True, True]
    assert rate.allows(3.0) is False
    assert rate.allows(10.5) is True  # the first has left the window
    assert rate.allows(10.6) is False
