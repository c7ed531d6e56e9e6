"""Webhooks from a real co-browse in Chromium (issue 4, item 10): a receiver on this
machine, subscribed through the REST API, gets session.started, agent_joined,
mode_changed and ended, and interaction.ended, each signed; the receiver checks every
signature on its own, from the documented header format, with hashlib and hmac only.

Webhook URLs may point at private and loopback addresses (administrators choose them,
and receivers inside the company network are the usual case; see
``core.webhooks.check_webhook_url``), so a receiver on 127.0.0.1 needs no setting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from cobrowse.core.webhooks import InvalidSignature, verify_signature
from tests.e2e.conftest import TEST_PAGES
from tests.e2e.helpers import join_and_see, open_site, sign_in, start_with_widget
from tests.e2e.test_write_mode import Agent, grant_write_mode
from tests.support import Deployment, deploy

pytestmark = pytest.mark.e2e

EVENTS = [
    "session.started",
    "session.agent_joined",
    "session.mode_changed",
    "session.ended",
    "interaction.ended",
]
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Records every POST as it arrived: raw body and headers (names lower-cased)."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)

    def matching(self, wanted: Callable[[dict[str, Any]], bool]) -> list[Delivery]:
        with self.lock:
            return [delivery for delivery in self.deliveries if wanted(delivery.event)]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server: ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiving.record(Delivery(headers, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiving = Receiver(f"http://127.0.0.1:{server.server_address[1]}/cobrowse-events")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiving
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("webhooks-flow"),
        {"pages": TEST_PAGES},
        webhook_poll_seconds=0.1,
        require_interaction=True,  # joins by ID bind the session to the agent's call (S2)
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    key = deployment.add_api_key("contact-centre")
    with httpx.Client(
        base_url=f"{deployment.url}/api/v1", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def subscription(api: httpx.Client, receiver: Receiver) -> tuple[str, str]:
    """The subscription's ID and secret."""
    created = api.post("/webhooks", json={"url": receiver.url, "events": EVENTS})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


def independently_verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The check an integrator writes from the README, without cobrowse's code:
    ``Cobrowse-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    fields: dict[str, list[str]] = {}
    for part in headers.get("cobrowse-signature", "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    timestamps = fields.get("t", [])
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    if abs(time.time() - int(timestamps[0])) > TOLERANCE_SECONDS:
        return False
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


def wait_for(what: str, found: Callable[[], bool], timeout: float = 15) -> None:
    """Wait for a condition the server reaches on its own (deliveries are asynchronous)."""
    deadline = time.monotonic() + timeout
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def for_session(session_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event["data"].get("session_id") == session_id


def check_signatures(secret: str, deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        assert independently_verified(secret, delivery.headers, delivery.body), delivery.headers
        verify_signature(
            secret, delivery.headers["cobrowse-signature"], delivery.body, now=time.time()
        )
        timestamp = delivery.headers["cobrowse-signature"].split(",")[0].removeprefix("t=")
        assert delivery.headers["cobrowse-timestamp"] == timestamp
        assert delivery.headers["cobrowse-event"] == delivery.event["type"]
        assert delivery.headers["content-type"] == "application/json"


def check_tampering_is_detected(secret: str, delivery: Delivery) -> None:
    """A changed body, a changed signature or another secret fails both checks."""
    header = delivery.headers["cobrowse-signature"]
    altered_body = delivery.body.replace(b'"session.', b'"sessiOn.', 1)
    assert altered_body != delivery.body
    timestamp, signature = header.split(",")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    tampered = [
        (secret, header, altered_body),
        (secret, f"{timestamp},{flipped}", delivery.body),
        (secret, f"t={int(time.time()) - 3600},{signature}", delivery.body),
        (secret + "x", header, delivery.body),
    ]
    for key, signed, body in tampered:
        assert not independently_verified(key, {"cobrowse-signature": signed}, body)
        with pytest.raises(InvalidSignature):
            verify_signature(key, signed, body, now=time.time())


def delivered_event_ids(api: httpx.Client, subscription_id: str) -> set[str]:
    listed = api.get(f"/webhooks/{subscription_id}/deliveries", params={"status": "delivered"})
    assert listed.status_code == 200, listed.text
    return {delivery["event_id"] for delivery in listed.json()}


def share_and_grant_write_mode(
    deployment: Deployment, customer: Page, agent: Page, agent_name: str
) -> tuple[str, Agent]:
    open_site(customer, f"{deployment.site_urls['pages']}/write.html")
    session_id = start_with_widget(customer)
    sign_in(agent, deployment, agent_name)
    join_and_see(agent, session_id, "Preferences")
    hands = Agent(agent, customer)
    grant_write_mode(hands)
    return session_id, hands


def open_call(api: httpx.Client, agent_name: str) -> str:
    """The agent's voice call, as a contact-center system reports it."""
    created = api.post("/interactions", json={"kind": "voice", "agent": agent_name})
    assert created.status_code == 201, created.text
    call: str = created.json()["id"]
    return call


def test_a_co_browse_sends_signed_session_events_with_the_real_end_reason(
    deployment: Deployment,
    customer: Page,
    agent: Page,
    agent_name: str,
    api: httpx.Client,
    receiver: Receiver,
    subscription: tuple[str, str],
) -> None:
    subscription_id, secret = subscription
    call = open_call(api, agent_name)
    session_id, _ = share_and_grant_write_mode(deployment, customer, agent, agent_name)
    customer.get_by_role("button", name="Exit").click()
    expect(agent.get_by_text("Session ended", exact=False)).to_be_visible()

    session_events = for_session(session_id)
    wait_for(
        "the session.ended delivery",
        lambda: any(d.event["type"] == "session.ended" for d in receiver.matching(session_events)),
    )
    received = sorted(receiver.matching(session_events), key=lambda d: d.event["created_at"])
    by_type = {delivery.event["type"]: delivery.event for delivery in received}
    assert [delivery.event["type"] for delivery in received] == [
        "session.started",
        "session.agent_joined",
        "session.mode_changed",
        "session.ended",
    ]
    assert by_type["session.started"]["data"]["site"] == "pages"
    assert by_type["session.agent_joined"]["data"]["agent"] == agent_name
    changed = by_type["session.mode_changed"]["data"]
    assert (changed["mode"], changed["changed_by"]) == ("write", "customer")
    # The customer ended it before the call ended: the real reason.
    assert by_type["session.ended"]["data"]["reason"] == "customer_exit"
    # It starts unbound (a CallUs-style session); the agent's join binds it to the call.
    assert by_type["session.started"]["data"]["interaction_id"] is None
    for delivery in received[1:]:
        assert delivery.event["data"]["interaction_id"] == call, delivery.event["type"]

    check_signatures(secret, received)
    check_tampering_is_detected(secret, received[-1])
    wait_for(
        "the deliveries API to list them as delivered",
        lambda: {d.event["id"] for d in received} <= delivered_event_ids(api, subscription_id),
    )


def test_ending_the_call_ends_the_session_and_both_are_sent_signed(
    deployment: Deployment,
    customer: Page,
    agent: Page,
    agent_name: str,
    api: httpx.Client,
    receiver: Receiver,
    subscription: tuple[str, str],
) -> None:
    subscription_id, secret = subscription
    call = open_call(api, agent_name)
    session_id, _ = share_and_grant_write_mode(deployment, customer, agent, agent_name)

    ended = api.post(f"/interactions/{call}/end")
    assert ended.status_code == 200, ended.text
    expect(customer.get_by_role("alert")).to_contain_text("The chat or call this co-browse")
    expect(agent.get_by_text("Session ended", exact=False)).to_be_visible()

    def about_this_call(event: dict[str, Any]) -> bool:
        data = event["data"]
        return bool(
            data.get("session_id") == session_id
            or (event["type"] == "interaction.ended" and data["interaction"]["id"] == call)
        )

    wanted = {*EVENTS}
    wait_for(
        "every event of the call",
        lambda: {d.event["type"] for d in receiver.matching(about_this_call)} == wanted,
    )
    received = sorted(receiver.matching(about_this_call), key=lambda d: d.event["created_at"])
    assert len(received) == len(EVENTS), [d.event["type"] for d in received]
    by_type = {delivery.event["type"]: delivery.event["data"] for delivery in received}
    assert by_type["session.started"]["interaction_id"] is None
    for event_type in EVENTS[1:4]:
        assert by_type[event_type]["interaction_id"] == call, event_type
    assert by_type["session.ended"]["reason"] == "interaction_ended"
    report = by_type["interaction.ended"]
    assert report["interaction"]["state"] == "ended"
    assert [s["session_id"] for s in report["cobrowse"]["sessions"]] == [session_id]

    check_signatures(secret, received)
    check_tampering_is_detected(secret, received[0])
    wait_for(
        "the deliveries API to list them as delivered",
        lambda: {d.event["id"] for d in received} <= delivered_event_ids(api, subscription_id),
    )
