"""Webhooks, the pure part: event types, payload shapes, signatures and the retry rule.

A delivery is an HTTP POST of a JSON event to a subscribed URL, signed the way Stripe
signs its webhooks: ``Cobrowse-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`` over
``f"{t}.{body}"`` with the subscription's secret. The receiver recomputes the HMAC and
refuses a timestamp outside its tolerance window, so a captured delivery cannot be
replayed later. ``verify_signature`` is that check; the README shows it standalone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"  # noqa: S105 -- a marker in front of secrets, not one
"""Marks a string as a cobrowse webhook secret, for people and for secret scanners."""
SUBSCRIPTION_ID_PREFIX = "wh"
DELIVERY_ID_PREFIX = "whd"
EVENT_ID_PREFIX = "evt"

MAX_URL_LENGTH = 2048
EVERY_EVENT = "*"
DEFAULT_TOLERANCE_SECONDS = 300
"""How old (or how far in the future) a signature timestamp may be: five minutes, as
Stripe does. Room for clock skew and a slow network, too short to replay much later."""

DEFAULT_RETRY_SECONDS = (10.0, 30.0, 120.0, 600.0, 3600.0)
"""Waits after the 1st, 2nd, ... failed attempt; after the last one the delivery fails.
Roughly exponential: a blip is retried within seconds, an outage for over an hour."""
RETRY_JITTER = 0.2
"""Each wait is moved by up to ±20%, so the deliveries that failed together during an
outage do not all come back at the same instant when the receiver does."""

_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class WebhookEvent(StrEnum):
    SESSION_STARTED = "session.started"
    SESSION_AGENT_JOINED = "session.agent_joined"
    SESSION_MODE_CHANGED = "session.mode_changed"
    SESSION_ENDED = "session.ended"
    INTERACTION_CREATED = "interaction.created"
    INTERACTION_ENDED = "interaction.ended"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Not delivered yet: the next attempt is due at ``next_attempt_at``."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    FAILED = "failed"
    """Every attempt failed, or the subscription was deleted first. Final."""


class InvalidSignature(Exception):
    """A delivery whose signature does not hold; the message says which check failed."""


def new_webhook_secret() -> str:
    """256 random bits: the HMAC key of one subscription."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_webhook_url(url: str) -> str:
    """The URL, or ValueError saying why it cannot receive webhooks.

    Administrators choose these URLs, and a receiver inside the company network is the
    usual case, so any http(s) host is allowed, private addresses included. Other
    schemes are refused. So are credentials in the URL: the API lists subscriptions
    back, and the signature already proves that a delivery comes from cobrowse.
    """
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    if _WHITESPACE_OR_CONTROL.search(url):
        raise ValueError("a webhook URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is what checks it
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("a webhook URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("a webhook URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "a webhook URL must not carry a user name or password; "
            "check the Cobrowse-Signature header to authenticate deliveries"
        )
    if parts.fragment:
        raise ValueError("a webhook URL must not have a #fragment (it is never sent)")
    return url


def check_event_selection(events: Sequence[str]) -> tuple[str, ...]:
    """The event types a subscription receives, each once, in the order given; ``"*"``
    alone means every type, including ones added in later versions."""
    if not events:
        raise ValueError(f'name at least one event type, or "{EVERY_EVENT}" for all of them')
    known = {event.value for event in WebhookEvent}
    unknown = [event for event in events if event != EVERY_EVENT and event not in known]
    if unknown:
        raise ValueError(
            f"unknown event type {unknown[0]!r}; the types are "
            f'{", ".join(sorted(known))} (or "{EVERY_EVENT}" for all)'
        )
    if EVERY_EVENT in events and len(set(events)) > 1:
        raise ValueError(f'"{EVERY_EVENT}" already means every event type; name no others')
    return tuple(dict.fromkeys(events))


def selects(selection: Sequence[str], event_type: str) -> bool:
    """Whether a subscription with this event selection receives ``event_type``."""
    return EVERY_EVENT in selection or event_type in selection


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with the whole secret."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Cobrowse-Signature`` header value of a delivery sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidSignature unless ``header`` signs ``body`` with ``secret`` at a time
    within ``tolerance`` seconds of ``now`` (Unix seconds).

    Several ``v1`` values are accepted (any one matching is enough), so a receiver's
    code keeps working if cobrowse ever signs with an old and a new secret at once.
    """
    timestamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not candidates:
        raise InvalidSignature("malformed signature header: expected t=<unix time>,v1=<hex>")
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature(
            f"timestamp {timestamp} is more than {tolerance:g} seconds away from now: "
            "a replayed or badly delayed delivery"
        )
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("signature mismatch: another secret, or the body was altered")


def retry_delay(failed_attempts: int, schedule: Sequence[float], spread: float) -> float | None:
    """Seconds to wait after the ``failed_attempts``-th failed attempt, or None when the
    schedule is used up and the delivery has failed for good.

    ``spread`` is a random number in [0, 1): it places the wait within ±RETRY_JITTER of
    the scheduled one.
    """
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    scheduled = schedule[failed_attempts - 1]
    return scheduled * (1 + RETRY_JITTER * (2 * spread - 1))


def max_attempts(schedule: Sequence[float]) -> int:
    """The first attempt plus one per scheduled retry."""
    return 1 + len(schedule)


def json_time(moment: datetime) -> str:
    """A moment as payloads and the API write it: ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_envelope(
    event_id: str, event_type: str, created_at: datetime, data: dict[str, object]
) -> dict[str, object]:
    """The JSON object every delivery carries: what happened is in ``data``."""
    return {"id": event_id, "type": event_type, "created_at": json_time(created_at), "data": data}


# The ``data`` of the session events. The live layer emits them; keeping their shapes
# here keeps them in one place with the README that documents them. Metadata only:
# never page content or URLs (PRODUCT.md §8).


def session_started(
    session_id: str, site: str, interaction_id: str | None, at: datetime
) -> dict[str, object]:
    return {
        "session_id": session_id,
        "site": site,
        "interaction_id": interaction_id,
        "started_at": json_time(at),
    }


def session_agent_joined(
    session_id: str, site: str, agent: str, interaction_id: str | None, at: datetime
) -> dict[str, object]:
    return {
        "session_id": session_id,
        "site": site,
        "agent": agent,
        "interaction_id": interaction_id,
        "joined_at": json_time(at),
    }


def session_mode_changed(
    session_id: str,
    site: str,
    mode: str,
    changed_by: str,
    interaction_id: str | None,
    at: datetime,
) -> dict[str, object]:
    """``mode`` is ``pointer`` or ``write``; ``changed_by`` is ``customer`` or ``agent``."""
    return {
        "session_id": session_id,
        "site": site,
        "mode": mode,
        "changed_by": changed_by,
        "interaction_id": interaction_id,
        "changed_at": json_time(at),
    }


def session_ended(
    session_id: str, site: str, reason: str, interaction_id: str | None, at: datetime
) -> dict[str, object]:
    """``reason`` is the session's end reason, as the history records it."""
    return {
        "session_id": session_id,
        "site": site,
        "reason": reason,
        "interaction_id": interaction_id,
        "ended_at": json_time(at),
    }
