"""The built-in web chat (PRODUCT.md §6 P1, issue 4): the rules that need no I/O.

A chat is an interaction of kind ``chat``. The customer's browser proves it owns a
chat with a random token (only its hash is stored); messages are short plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

MAX_MESSAGE_LENGTH = 2000
MAX_NAME_LENGTH = 80
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Sender(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class ChatRefused(Exception):
    """A chat action was refused; ``code`` for programs, ``text`` for people."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def clean_text(text: str) -> str:
    """A message as stored: trimmed, without control characters other than line
    breaks and tabs; ChatRefused when empty or too long."""
    cleaned = _CONTROL.sub("", text).strip()
    if not cleaned:
        raise ChatRefused("empty_message", "A message cannot be empty.")
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise ChatRefused(
            "message_too_long", f"A message has at most {MAX_MESSAGE_LENGTH} characters."
        )
    return cleaned


def clean_name(name: str | None) -> str | None:
    """The customer's name as given (optional), on one line and bounded."""
    if name is None:
        return None
    cleaned = re.sub(r"\s+", " ", _CONTROL.sub("", name)).strip()[:MAX_NAME_LENGTH]
    return cleaned or None


CUSTOMER_ENDER = "customer"
AGENT_ENDER_PREFIX = "agent:"
"""How the interaction's ``ended_by`` names who ended a chat: "customer", or
"agent:<username>" (the console); anything else is a system (the integration API)."""


def ended_by_side(ended_by: str) -> str:
    """ "customer", "agent" or "system": which side ended the chat."""
    if ended_by == CUSTOMER_ENDER:
        return "customer"
    return "agent" if ended_by.startswith(AGENT_ENDER_PREFIX) else "system"


def ended_text(side: str, reader_is_customer: bool) -> str:
    """The chat ended (``side`` from :func:`ended_by_side`): said in words to one of
    its two sides."""
    if side == "system":
        return "The chat has ended."
    if (side == "customer") == reader_is_customer:
        return "You ended the chat."
    return "The customer ended the chat." if side == "customer" else "The agent ended the chat."


@dataclass
class MessageRate:
    """At most ``limit`` messages in any ``window`` seconds, purely from ``now``."""

    limit: int = 20
    window: float = 10.0
    _sent: list[float] = field(default_factory=list)

    def allows(self, now: float) -> bool:
        self._sent = [moment for moment in self._sent if moment > now - self.window]
        if len(self._sent) >= self.limit:
            return False
        self._sent.append(now)
        return True
