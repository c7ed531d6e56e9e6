"""Webhooks over the real server: subscriptions made through the REST API, events
delivered to a real receiver on a local port that checks every signature the way the
README tells integrators to, retries with backoff, and the deliveries API.

Retry waits are a few tenths of a second here (``webhook_retry_seconds``); the tests
wait for outcomes (attempt counts, statuses), never for times.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from cobrowse.core.webhooks import DeliveryStatus, InvalidSignature, verify_signature
from cobrowse.demo.website import SAMPLE_SITE
from cobrowse.integration.webhooks import DeliveryPolicy, WebhookDeliveryWorker
from cobrowse.store.db import Database
from cobrowse.store.webhooks import WebhookStore
from tests.databases import postgres_database
from tests.integration.test_sockets import live_pair, receive
from tests.support import Deployment, deploy, free_port, plain_server, sign_in_cookie

RETRIES = (0.2, 0.3, 0.2)
"""Four attempts in all, within about a second."""
HANG = 0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver as an integrator writes one: it checks the signature of every
    delivery with the subscription's secret and refuses what does not verify (400).

    ``answers`` scripts each path: the status codes it answers in turn, the last one
    repeated; ``HANG`` answers nothing until ``release`` is set. Only verified
    deliveries reach ``received``.
    """

    url: str
    secrets: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        with self.lock:
            count = self.seen[path] = self.seen.get(path, 0) + 1
            secret = self.secrets.get(path, "")
        try:
            verify_signature(
                secret, request.headers.get("cobrowse-signature", ""), body, now=time.time()
            )
        except InvalidSignature as problem:
            with self.lock:
                self.refused.append(str(problem))
            return PlainTextResponse(str(problem), status_code=400)
        script = self.answers.get(path, [200])
        status = script[min(count, len(script)) - 1]
        if status == HANG:
            await asyncio.to_thread(self.release.wait)
        if status == 302:
            return RedirectResponse(f"{self.url}/elsewhere", status_code=302)
        with self.lock:
            self.received.append(Received(path, dict(request.headers), body))
        if status >= 400:
            return PlainTextResponse("receiver broke\n" + "x" * 5000, status_code=status)
        return JSONResponse({"ok": True}, status_code=status)

    def deliveries_to(self, path: str) -> list[Received]:
        with self.lock:
            return [entry for entry in self.received if entry.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    port = free_port()
    receiving = Receiver(f"http://127.0.0.1:{port}")
    app = Starlette(routes=[Route("/{path:path}", receiving.handle, methods=["POST"])])
    server = plain_server(app, port)
    server.start()
    yield receiving
    server.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("webhooks"),
        {"shop": SAMPLE_SITE},
        webhook_retry_seconds=RETRIES,
        webhook_poll_seconds=0.05,
        webhook_timeout_seconds=5,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    key = deployment.add_api_key("webhooks-test")
    with httpx.Client(
        base_url=f"{deployment.url}/api/v1", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


_paths = iter(range(1, 1000))


def subscribe(
    api: httpx.Client,
    receiver: Receiver,
    events: list[str],
    answers: list[int] | None = None,
) -> tuple[str, str]:
    """A subscription to a path of its own on the receiver; its ID and path."""
    path = f"/hooks/{next(_paths)}"
    if answers is not None:
        receiver.answers[path] = answers
    response = api.post("/webhooks", json={"url": receiver.url + path, "events": events})
    assert response.status_code == 201, response.text
    created = response.json()
    receiver.secrets[path] = created["secret"]
    return created["id"], path


def eventually(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """The condition's first truthy value, asked again until ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        time.sleep(0.05)


async def until(condition: Callable[[], bool]) -> None:
    """Return once the condition holds; fail if it does not within 15 seconds."""
    async with asyncio.timeout(15):
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


def deliveries(api: httpx.Client, subscription_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/webhooks/{subscription_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def only_delivery_when(
    api: httpx.Client, subscription_id: str, status: str
) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        found = deliveries(api, subscription_id)
        return found[0] if len(found) == 1 and found[0]["status"] == status else None

    return check


def test_a_subscription_is_created_with_its_secret_once(
    api: httpx.Client, receiver: Receiver
) -> None:
    response = api.post(
        "/webhooks", json={"url": f"{receiver.url}/created", "events": ["session.ended"]}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["id"].startswith("wh_")
    assert (created["url"], created["events"], created["active"]) == (
        f"{receiver.url}/created",
        ["session.ended"],
        True,
    )
    assert response.headers["location"].endswith(f"/api/v1/webhooks/{created['id']}")
    shown = {key: value for key, value in created.items() if key != "secret"}
    assert api.get(f"/webhooks/{created['id']}").json() == shown
    assert shown in api.get("/webhooks").json()
    assert created["secret"] not in api.get("/webhooks").text


def test_an_event_is_delivered_signed_to_each_subscriber(
    api: httpx.Client, receiver: Receiver
) -> None:
    everything, everything_path = subscribe(api, receiver, ["*"])
    created_only, created_path = subscribe(api, receiver, ["interaction.created"])
    _, ended_only_path = subscribe(api, receiver, ["interaction.ended"])

    interaction = api.post(
        "/interactions", json={"kind": "chat", "customer_reference": "CRM-7"}
    ).json()

    for subscription in (everything, created_only):
        delivered = eventually(only_delivery_when(api, subscription, "delivered"))
        assert delivered["attempts"] == 1
        assert delivered["last_status_code"] == 200
        assert delivered["event_type"] == "interaction.created"
        assert delivered["payload"]["data"] == {"interaction": interaction}
    [first] = receiver.deliveries_to(everything_path)
    [second] = receiver.deliveries_to(created_path)
    assert receiver.deliveries_to(ended_only_path) == []

    headers = first.headers
    assert headers["content-type"] == "application/json"
    assert headers["cobrowse-event"] == "interaction.created"
    assert headers["cobrowse-delivery"] == deliveries(api, everything)[0]["id"]
    assert headers["cobrowse-signature"].startswith(f"t={headers['cobrowse-timestamp']},v1=")
    assert headers["user-agent"].startswith("cobrowse-webhooks/")
    event = httpx.Response(200, content=first.body).json()
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["type"] == "interaction.created"
    assert event["data"]["interaction"]["id"] == interaction["id"]
    # One event, one ID, whichever subscription it went to; a delivery ID of its own each.
    assert event["id"] == httpx.Response(200, content=second.body).json()["id"]
    assert second.headers["cobrowse-delivery"] != headers["cobrowse-delivery"]


def test_a_tampered_or_replayed_delivery_does_not_verify(
    api: httpx.Client, receiver: Receiver
) -> None:
    _, path = subscribe(api, receiver, ["interaction.created"])
    api.post("/interactions", json={"kind": "voice"})
    [genuine] = eventually(lambda: receiver.deliveries_to(path))
    secret = receiver.secrets[path]
    header = genuine.headers["cobrowse-signature"]
    verify_signature(secret, header, genuine.body, now=time.time())

    tampered_body = genuine.body.replace(b'"voice"', b'"chat"')
    tampered_signature = header[:-4] + ("0000" if not header.endswith("0000") else "1111")
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(secret, header, tampered_body, now=time.time())
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_signature(secret, tampered_signature, genuine.body, now=time.time())
    with pytest.raises(InvalidSignature, match="replayed"):
        verify_signature(secret, header, genuine.body, now=time.time() + 3600)

    # And the receiver, sent the same forgeries, refuses them.
    for forged_body, forged_header in ((tampered_body, header), (genuine.body, tampered_signature)):
        answer = httpx.post(
            receiver.url + path,
            content=forged_body,
            headers={"Cobrowse-Signature": forged_header},
        )
        assert answer.status_code == 400
    assert len(receiver.deliveries_to(path)) == 1


def test_a_failing_receiver_gets_retries_then_the_delivery_fails(
    api: httpx.Client, receiver: Receiver
) -> None:
    subscription, path = subscribe(api, receiver, ["interaction.created"], answers=[500])
    api.post("/interactions", json={"kind": "chat"})

    failed = eventually(only_delivery_when(api, subscription, "failed"))
    assert failed["attempts"] == 1 + len(RETRIES)
    assert failed["last_status_code"] == 500
    assert failed["last_error"].startswith("HTTP 500: receiver broke")
    assert len(failed["last_error"]) <= 300, "only the start of an answer is kept"
    assert (failed["next_attempt_at"], failed["delivered_at"]) == (None, None)
    attempts = receiver.deliveries_to(path)
    assert len(attempts) == 1 + len(RETRIES)
    assert len({entry.headers["cobrowse-delivery"] for entry in attempts}) == 1
    assert len({entry.body for entry in attempts}) == 1, "the same event every time"
    assert deliveries(api, subscription, status="failed") == [failed]
    assert deliveries(api, subscription, status="delivered") == []


def test_a_receiver_that_recovers_gets_the_delivery(api: httpx.Client, receiver: Receiver) -> None:
    subscription, path = subscribe(api, receiver, ["interaction.created"], answers=[500, 503, 200])
    api.post("/interactions", json={"kind": "chat"})
    delivered = eventually(only_delivery_when(api, subscription, "delivered"))
    assert (delivered["attempts"], delivered["last_status_code"]) == (3, 200)
    assert delivered["last_error"] is None
    assert delivered["delivered_at"] is not None
    assert len(receiver.deliveries_to(path)) == 3


def test_a_pending_delivery_shows_when_it_is_tried_next(
    api: httpx.Client, receiver: Receiver
) -> None:
    subscription, _ = subscribe(api, receiver, ["interaction.created"], answers=[500])
    api.post("/interactions", json={"kind": "chat"})

    def retrying() -> dict[str, Any] | None:
        for delivery in deliveries(api, subscription, status="pending"):
            if delivery["attempts"] >= 1:
                return delivery
        return None

    pending = eventually(retrying)
    assert pending["last_status_code"] == 500
    assert pending["next_attempt_at"] is not None


def test_redirects_are_not_followed(api: httpx.Client, receiver: Receiver) -> None:
    subscription, _ = subscribe(api, receiver, ["interaction.created"], answers=[302])
    api.post("/interactions", json={"kind": "chat"})
    failed = eventually(only_delivery_when(api, subscription, "failed"))
    assert failed["last_status_code"] == 302
    assert "redirects are not followed" in failed["last_error"]
    assert receiver.seen.get("/elsewhere") is None


def test_an_unreachable_receiver_is_retried_then_fails(api: httpx.Client) -> None:
    closed_port = free_port()
    response = api.post(
        "/webhooks",
        json={"url": f"http://127.0.0.1:{closed_port}/hook", "events": ["interaction.created"]},
    )
    subscription = response.json()["id"]
    api.post("/interactions", json={"kind": "chat"})
    failed = eventually(only_delivery_when(api, subscription, "failed"))
    assert failed["attempts"] == 1 + len(RETRIES)
    assert failed["last_status_code"] is None
    assert "ConnectError" in failed["last_error"]


def test_a_deleted_subscription_gets_nothing_more(api: httpx.Client, receiver: Receiver) -> None:
    subscription, path = subscribe(api, receiver, ["interaction.created"])
    api.post("/interactions", json={"kind": "chat"})
    eventually(only_delivery_when(api, subscription, "delivered"))

    assert api.delete(f"/webhooks/{subscription}").status_code == 204
    assert api.delete(f"/webhooks/{subscription}").status_code == 204, "idempotent"
    assert subscription not in [entry["id"] for entry in api.get("/webhooks").json()]
    assert api.get(f"/webhooks/{subscription}").json()["active"] is False
    api.post("/interactions", json={"kind": "chat"})
    # Another subscriber receiving the next event shows the event was sent out.
    _, witness_path = subscribe(api, receiver, ["interaction.created"])
    api.post("/interactions", json={"kind": "chat"})
    eventually(lambda: receiver.deliveries_to(witness_path))
    assert len(receiver.deliveries_to(path)) == 1
    [kept] = deliveries(api, subscription)
    assert kept["status"] == "delivered", "past deliveries stay readable"


def test_ending_an_interaction_sends_its_cobrowse_report(
    api: httpx.Client, receiver: Receiver
) -> None:
    subscription, path = subscribe(api, receiver, ["interaction.ended"])
    interaction = api.post("/interactions", json={"kind": "voice"}).json()
    ended = api.post(f"/interactions/{interaction['id']}/end").json()
    api.post(f"/interactions/{interaction['id']}/end")  # again: no second event

    delivered = eventually(only_delivery_when(api, subscription, "delivered"))
    data = delivered["payload"]["data"]
    assert data["interaction"]["state"] == "ended"
    assert data["interaction"]["ended_at"] == ended["ended_at"]
    assert data["cobrowse"] == {"co_browsed": False, "session_count": 0, "sessions": []}
    assert len(receiver.deliveries_to(path)) == 1


@pytest.mark.parametrize(
    ("body", "error", "named"),
    [
        ({"url": "ftp://crm.example.com/", "events": ["*"]}, "invalid_webhook", "http"),
        (
            {"url": "https://u:p@crm.example.com/", "events": ["*"]},
            "invalid_webhook",
            "password",
        ),
        ({"url": "https://crm.example.com/", "events": ["x.y"]}, "invalid_webhook", "x.y"),
        ({"url": "https://crm.example.com/", "events": []}, "invalid_request", "events"),
        ({"events": ["*"]}, "invalid_request", "url"),
    ],
)
def test_bad_subscriptions_are_refused_and_named(
    api: httpx.Client, body: dict[str, Any], error: str, named: str
) -> None:
    response = api.post("/webhooks", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == error
    assert named in response.json()["text"]


def test_unknown_subscriptions_are_404(api: httpx.Client) -> None:
    for response in (
        api.get("/webhooks/wh_nope"),
        api.delete("/webhooks/wh_nope"),
        api.get("/webhooks/wh_nope/deliveries"),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "unknown_webhook"
    bad_status = api.get("/webhooks/wh_nope/deliveries", params={"status": "lost"})
    assert bad_status.status_code == 422


def test_webhooks_need_an_api_key(deployment: Deployment) -> None:
    for method, path in (("GET", "/webhooks"), ("POST", "/webhooks")):
        response = httpx.request(method, f"{deployment.url}/api/v1{path}")
        assert response.status_code == 401


def test_the_endpoints_are_described_in_openapi(deployment: Deployment) -> None:
    document = httpx.get(f"{deployment.url}/api/v1/openapi.json").json()
    paths = document["paths"]
    assert paths["/webhooks"]["post"]["operationId"] == "create_webhook"
    assert paths["/webhooks"]["get"]["operationId"] == "list_webhooks"
    assert paths["/webhooks/{subscription_id}"]["delete"]["operationId"] == "delete_webhook"
    listing = paths["/webhooks/{subscription_id}/deliveries"]["get"]
    assert listing["operationId"] == "list_deliveries"
    assert {parameter["name"] for parameter in listing["parameters"]} == {
        "subscription_id",
        "status",
        "limit",
    }
    schemas = document["components"]["schemas"]
    events = schemas["NewSubscription"]["properties"]["events"]
    assert set(events["items"]["enum"]) >= {"*", "session.ended", "interaction.ended"}
    assert (
        "Shown this once" in schemas["CreatedSubscription"]["properties"]["secret"]["description"]
    )


# Several nodes ------------------------------------------------------------------------


async def test_workers_of_several_nodes_make_each_attempt_once(receiver: Receiver) -> None:
    """Three workers on one PostgreSQL database, as three cluster nodes run them."""
    async with postgres_database() as db:
        await several_workers_deliver_each_event_once(db, receiver)


async def test_workers_sharing_one_sqlite_file_make_each_attempt_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        await db.migrate()
        await several_workers_deliver_each_event_once(db, receiver)
    finally:
        await db.close()


async def several_workers_deliver_each_event_once(db: Database, receiver: Receiver) -> None:
    events = 40
    store = WebhookStore(db)
    path = f"/hooks/{next(_paths)}"
    subscription, secret = await store.subscribe(receiver.url + path, ["*"])
    receiver.secrets[path] = secret
    for number in range(events):
        await store.enqueue(f"evt_{number}", "session.ended", {"n": number}, datetime.now(UTC))
    policy = DeliveryPolicy(RETRIES, 5.0, 0.02, timedelta(days=1))
    workers = [WebhookDeliveryWorker(WebhookStore(db), policy) for _ in range(3)]
    running = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        deadline = time.monotonic() + 30
        while True:
            delivered = await store.deliveries(
                subscription.id, status=DeliveryStatus.DELIVERED, limit=events
            )
            if len(delivered) == events or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    assert len(delivered) == events
    assert {delivery.attempts for delivery in delivered} == {1}
    received = receiver.deliveries_to(path)
    assert len(received) == events, "each attempt made once, by one of the workers"
    assert len({entry.headers["cobrowse-delivery"] for entry in received}) == events


async def test_a_stopping_worker_gives_back_the_leases_of_its_attempts(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await db.migrate()
    store = WebhookStore(db)
    path = f"/hooks/{next(_paths)}"
    receiver.answers[path] = [HANG]
    _, receiver.secrets[path] = await store.subscribe(receiver.url + path, ["*"])
    await store.enqueue("evt_1", "session.ended", {"n": 1}, datetime.now(UTC))
    policy = DeliveryPolicy(RETRIES, 30.0, 0.02, timedelta(days=1))
    running = asyncio.create_task(WebhookDeliveryWorker(store, policy).run())
    try:
        await until(lambda: receiver.seen.get(path, 0) > 0)
        assert receiver.seen.get(path) == 1, "the attempt is under way"
        now = datetime.now(UTC)
        assert await store.claim_due(now, now + timedelta(minutes=1), 10) == [], "leased"

        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        now = datetime.now(UTC)
        [again] = await store.claim_due(now, now + timedelta(minutes=1), 10)
        assert again.attempts == 0, "an abandoned attempt is not counted"
    finally:
        running.cancel()
        receiver.release.set()
        await db.close()


async def test_a_live_session_sends_its_events_signed(
    api: httpx.Client, receiver: Receiver, deployment: Deployment, site_origin: str
) -> None:
    events = ["session.started", "session.agent_joined", "session.mode_changed", "session.ended"]
    _, path = await asyncio.to_thread(subscribe, api, receiver, events)
    agent_name = deployment.add_agent(f"webhook-agent-{next(_paths)}")
    cookie = await asyncio.to_thread(sign_in_cookie, deployment, agent_name)
    customer, agent, session_id = await live_pair(deployment, site_origin, cookie)
    async with customer, agent:
        await agent.send('{"v":1,"t":"request_write"}')
        assert (await receive(customer))["t"] == "write_request"
        await customer.send('{"v":1,"t":"write_answer","accepted":true}')
        assert (await receive(agent))["t"] == "mode"
        await customer.send('{"v":1,"t":"exit"}')
        assert (await receive(agent))["reason"] == "customer_exit"

    await until(lambda: len(receiver.deliveries_to(path)) == 4)
    payloads = [json.loads(entry.body) for entry in receiver.deliveries_to(path)]
    by_type = {payload["type"]: payload["data"] for payload in payloads}
    assert set(by_type) == set(events)
    assert {data["session_id"] for data in by_type.values()} == {session_id}
    assert by_type["session.agent_joined"]["agent"] == agent_name
    assert (
        by_type["session.mode_changed"]["mode"],
        by_type["session.mode_changed"]["changed_by"],
    ) == (
        "write",
        "customer",
    )
    assert by_type["session.ended"]["reason"] == "customer_exit"
    assert by_type["session.started"]["site"] == "shop"
