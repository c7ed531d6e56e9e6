"""Support phone numbers a site shows in the CallUs widget (PRODUCT.md P3).

Administrators type numbers the way people read them (``+1 (555) 010-0100``); the
widget shows them that way and dials the ``tel:`` form, the digits with a leading
``+`` kept. Two spellings of the same digits are the same number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NUMBER_LENGTH = 32
"""Characters of a number as shown, separators included."""
MIN_DIGITS = 3
"""Short codes like 112 are real support numbers; fewer digits are a typo."""
MAX_DIGITS = 15
"""The longest number E.164 allows."""
MAX_LABEL_LENGTH = 64

_NUMBER_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    """As people read it, like ``+1 555 0100``."""
    label: str | None = None
    """What the number is for, like ``Support``; shown next to it."""

    @property
    def tel(self) -> str:
        """The dialable form for a ``tel:`` link: ``+15550100``."""
        return dial_form(self.number)


def dial_form(number: str) -> str:
    """The digits of ``number``, with its leading ``+`` when it has one."""
    digits = re.sub(r"[^0-9]", "", number)
    return f"+{digits}" if number.startswith("+") else digits


def check_phone_number(text: str) -> str:
    """The number with its spaces tidied, or ValueError saying what is wrong with it."""
    number = _SPACES.sub(" ", text.strip())
    if not number:
        raise ValueError("a phone number cannot be empty")
    if len(number) > MAX_NUMBER_LENGTH:
        raise ValueError(
            f"phone number {number!r} is too long: at most {MAX_NUMBER_LENGTH} characters"
        )
    if not _NUMBER_CHARACTERS.match(number):
        raise ValueError(
            f"phone number {number!r} may contain only digits, spaces, dashes and "
            "parentheses, with an optional + in front"
        )
    digits = len(dial_form(number).lstrip("+"))
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(
            f"phone number {number!r} has {digits} digits: a phone number has "
            f"{MIN_DIGITS} to {MAX_DIGITS}"
        )
    return number


def check_phone_label(text: str) -> str:
    """The label with its spaces tidied, or ValueError saying what is wrong with it."""
    label = _SPACES.sub(" ", text.strip())
    if not label:
        raise ValueError("a phone number label cannot be empty (leave --label out instead)")
    if len(label) > MAX_LABEL_LENGTH:
        raise ValueError(f"a phone number label has at most {MAX_LABEL_LENGTH} characters")
    if _CONTROL.search(label):
        raise ValueError("a phone number label must not contain control characters")
    return label
