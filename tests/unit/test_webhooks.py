"""Webhooks, the pure part: signatures a receiver can check, the retry rule, which URLs
and event types a subscription may have, and the payload shapes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cobrowse.core.webhooks import (
    DEFAULT_RETRY_SECONDS,
    DEFAULT_TOLERANCE_SECONDS,
    InvalidSignature,
    WebhookEvent,
    check_event_selection,
    check_webhook_url,
    event_envelope,
    json_time,
    max_attempts,
    new_webhook_secret,
    retry_delay,
    selects,
    session_agent_joined,
    session_ended,
    session_mode_changed,
    session_started,
    signature_header,
    verify_signature,
)

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"interaction.ended","data":{}}'
NOW = 1_800_000_000


# Signatures -------------------------------------------------------------------------


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_a_signed_delivery_verifies() -> None:
    verify_signature(SECRET, signature_header(SECRET, NOW, BODY), BODY, now=NOW + 5)


def test_a_tampered_body_is_detected() -> None:
    header = signature_header(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(SECRET, header, BODY.replace(b"ended", b"begun"), now=NOW)


def test_a_tampered_signature_is_detected() -> None:
    header = signature_header(SECRET, NOW, BODY)
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(SECRET, flipped, BODY, now=NOW)


def test_another_secret_does_not_verify() -> None:
    header = signature_header(new_webhook_secret(), NOW, BODY)
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(SECRET, header, BODY, now=NOW)


def test_a_moved_timestamp_breaks_the_signature() -> None:
    """The timestamp is signed: bumping it to pass the replay check does not work."""
    signed = signature_header(SECRET, NOW, BODY)
    replayed = signed.replace(f"t={NOW}", f"t={NOW + 3600}")
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(SECRET, replayed, BODY, now=NOW + 3600)


@pytest.mark.parametrize("age", [DEFAULT_TOLERANCE_SECONDS + 1, -DEFAULT_TOLERANCE_SECONDS - 1])
def test_a_delivery_outside_the_tolerance_window_is_refused_as_a_replay(age: int) -> None:
    header = signature_header(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature, match="replayed"):
        verify_signature(SECRET, header, BODY, now=NOW + age)
    verify_signature(SECRET, header, BODY, now=NOW + age, tolerance=abs(age))


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", f"t={NOW}", "t=soon,v1=abc", f"t={NOW},t={NOW},v1=abc", "garbage"],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature, match="malformed"):
        verify_signature(SECRET, header, BODY, now=NOW)


def test_any_one_of_several_signatures_may_match() -> None:
    good = signature_header(SECRET, NOW, BODY).split(",v1=")[1]
    verify_signature(SECRET, f"t={NOW}, v1={'0' * 64}, v1={good}", BODY, now=NOW)


def test_secrets_are_new_every_time_and_marked() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(first) > 40


# Retries -----------------------------------------------------------------------------


def test_retries_follow_the_schedule_then_give_up() -> None:
    middle = 0.5  # no jitter
    waits = [retry_delay(failed, DEFAULT_RETRY_SECONDS, middle) for failed in range(1, 7)]
    assert waits == [10.0, 30.0, 120.0, 600.0, 3600.0, None]
    assert max_attempts(DEFAULT_RETRY_SECONDS) == 6


@pytest.mark.parametrize("spread", [0.0, 0.25, 0.75, 0.999])
def test_jitter_stays_within_a_fifth_of_the_scheduled_wait(spread: float) -> None:
    wait = retry_delay(2, DEFAULT_RETRY_SECONDS, spread)
    assert wait is not None
    assert 24.0 <= wait <= 36.0


def test_no_schedule_means_one_attempt() -> None:
    assert retry_delay(1, (), 0.5) is None
    assert max_attempts(()) == 1


# Subscriptions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com/hooks/cobrowse",
        "http://10.0.0.7:8080/cobrowse?tenant=4",
        "http://localhost:9000/",
        "HTTPS://CRM.EXAMPLE.COM/x",
    ],
)
def test_any_http_url_may_receive_webhooks(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://crm.example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://localhost:6379/_FLUSHALL", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("crm.example.com/hooks", "http:// or https://"),
        ("https:///path-only", "host"),
        ("https://user:pw@crm.example.com/", "user name or password"),
        ("https://crm.example.com/#part", "fragment"),
        ("https://crm.example.com/a b", "spaces"),
        ("https://crm.example.com:99999/", "not a valid URL"),
        ("https://crm.example.com/" + "a" * 2048, "2048"),
    ],
)
def test_urls_that_cannot_receive_webhooks_are_refused(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_webhook_url(url)


def test_event_selection() -> None:
    assert check_event_selection(["*"]) == ("*",)
    assert check_event_selection(["session.ended", "interaction.ended", "session.ended"]) == (
        "session.ended",
        "interaction.ended",
    )
    with pytest.raises(ValueError, match="at least one"):
        check_event_selection([])
    with pytest.raises(ValueError, match=r"unknown event type 'session\.paused'"):
        check_event_selection(["session.ended", "session.paused"])
    with pytest.raises(ValueError, match="every event type"):
        check_event_selection(["*", "session.ended"])


def test_a_subscription_receives_what_it_selected() -> None:
    assert selects(("*",), "session.started")
    assert selects(("session.ended", "interaction.ended"), "interaction.ended")
    assert not selects(("session.ended",), "interaction.ended")


# Payloads ------------------------------------------------------------------------------

AT = datetime(2026, 12, 1, 9, 30, 15, 250000, tzinfo=UTC)


def test_times_are_utc_with_a_z() -> None:
    assert json_time(AT) == "2026-12-01T09:30:15.250000Z"
    assert json_time(AT.astimezone(timezone(timedelta(hours=2)))) == "2026-12-01T09:30:15.250000Z"


def test_the_envelope() -> None:
    assert event_envelope("evt_1", "session.ended", AT, {"session_id": "123456789"}) == {
        "id": "evt_1",
        "type": "session.ended",
        "created_at": "2026-12-01T09:30:15.250000Z",
        "data": {"session_id": "123456789"},
    }


def test_session_event_data_is_metadata_only() -> None:
    when = "2026-12-01T09:30:15.250000Z"
    assert session_started("123456789", "shop", None, AT) == {
        "session_id": "123456789",
        "site": "shop",
        "interaction_id": None,
        "started_at": when,
    }
    assert session_agent_joined("123456789", "shop", "alice", "int_x", AT) == {
        "session_id": "123456789",
        "site": "shop",
        "agent": "alice",
        "interaction_id": "int_x",
        "joined_at": when,
    }
    assert session_mode_changed("123456789", "shop", "write", "customer", "int_x", AT) == {
        "session_id": "123456789",
        "site": "shop",
        "mode": "write",
        "changed_by": "customer",
        "interaction_id": "int_x",
        "changed_at": when,
    }
    assert session_ended("123456789", "shop", "interaction_ended", "int_x", AT) == {
        "session_id": "123456789",
        "site": "shop",
        "reason": "interaction_ended",
        "interaction_id": "int_x",
        "ended_at": when,
    }


def test_the_event_types() -> None:
    assert {event.value for event in WebhookEvent} == {
        "session.started",
        "session.agent_joined",
        "session.mode_changed",
        "session.ended",
        "interaction.created",
        "interaction.ended",
    }
