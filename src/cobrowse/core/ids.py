"""Session IDs and secret tokens.

A session ID is nine random digits for a person to read out over the phone (S3).
It never starts with 0, so nobody drops a leading zero while typing it. It is not
a secret: joining also needs a signed-in agent.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Container

SESSION_ID_PATTERN = re.compile(r"^[1-9][0-9]{8}$")
_LOWEST = 100_000_000
_SPAN = 900_000_000


def new_session_id(
    taken: Container[str], randbelow: Callable[[int], int] = secrets.randbelow
) -> str:
    """A nine-digit ID not in ``taken``."""
    while True:
        candidate = str(_LOWEST + randbelow(_SPAN))
        if candidate not in taken:
            return candidate


def normalize_session_id(typed: str) -> str | None:
    """The ID a person typed, without the spaces or dashes people add; None if not an ID."""
    digits = re.sub(r"[\s\-]", "", typed)
    return digits if SESSION_ID_PATTERN.match(digits) else None


def new_token() -> str:
    """A secret for a cookie or a resume handle: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_public_id(prefix: str) -> str:
    """An opaque identifier such as ``int_5x2kq...``: the prefix says what it names, 120
    random bits make it unguessable and unique without asking the store.

    Lower-case base32, so it survives URLs, logs and case-insensitive systems alike.
    """
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(15)).decode().lower()}"


def token_digest(token: str) -> str:
    """What the store keeps instead of a token, so a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()
