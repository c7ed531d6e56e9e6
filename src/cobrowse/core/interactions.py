"""Primary interactions (PRODUCT.md §6 P1): the chat or voice call a customer has with
an agent, inside which co-browse happens (S2).

An interaction is ``open`` until it ends; ``ended`` is final. Its co-browse sessions
are bound to it, and ending it ends them (P2).
"""

from __future__ import annotations

import re
from enum import StrEnum

INTERACTION_ID_PREFIX = "int"
MAX_CUSTOMER_REFERENCE_LENGTH = 200
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class InteractionKind(StrEnum):
    CHAT = "chat"
    VOICE = "voice"


class InteractionState(StrEnum):
    OPEN = "open"
    ENDED = "ended"


def check_customer_reference(reference: str | None) -> str | None:
    """The reference as stored, or ValueError saying what is wrong with it.

    It is free text for the contact-center system to find its customer again (a CRM
    ticket number, a caller ID). Control characters are refused: the reference ends up
    in API answers, webhook payloads and exports, where a newline would forge lines.
    """
    if reference is None:
        return None
    reference = reference.strip()
    if not reference:
        return None
    if len(reference) > MAX_CUSTOMER_REFERENCE_LENGTH:
        raise ValueError(
            f"customer_reference has at most {MAX_CUSTOMER_REFERENCE_LENGTH} characters"
        )
    if _CONTROL_CHARACTERS.search(reference):
        raise ValueError("customer_reference must not contain control characters")
    return reference
