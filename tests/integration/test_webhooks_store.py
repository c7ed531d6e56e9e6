"""The webhook store: subscriptions, deliveries, leases shared by several workers, on
SQLite and PostgreSQL (see tests/databases.py for how PostgreSQL is reached)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cobrowse.core.webhooks import DeliveryStatus
from cobrowse.store.db import Database
from cobrowse.store.models import WebhookSubscriptionRow
from cobrowse.store.webhooks import (
    SUBSCRIPTION_DELETED,
    InvalidSubscription,
    UnknownSubscription,
    WebhookStore,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
URL = "https://crm.example.com/hooks/cobrowse"
LEASE = timedelta(seconds=40)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def payload(number: int) -> dict[str, object]:
    return {"id": f"evt_{number}", "type": "session.ended", "data": {"n": number}}


async def test_a_subscription_is_made_listed_and_deleted(database: Database) -> None:
    store = WebhookStore(database)
    subscription, secret = await store.subscribe(URL, ["session.ended", "interaction.ended"])
    assert subscription.id.startswith("wh_")
    assert secret.startswith("whsec_")
    assert subscription.events == ("session.ended", "interaction.ended")
    assert subscription.active
    assert await store.subscriptions() == [subscription]
    assert await store.subscription(subscription.id) == subscription
    async with database.sessions() as tx:
        stored = await tx.scalar(select(WebhookSubscriptionRow.secret))
    assert stored == secret, "kept as it is: signing needs it"

    await store.unsubscribe(subscription.id)
    await store.unsubscribe(subscription.id)  # again: harmless
    assert await store.subscriptions() == []
    assert not (await store.subscription(subscription.id)).active
    with pytest.raises(UnknownSubscription, match="'wh_nope'"):
        await store.unsubscribe("wh_nope")
    with pytest.raises(UnknownSubscription):
        await store.subscription("wh_nope")
    with pytest.raises(UnknownSubscription):
        await store.deliveries("wh_nope")


@pytest.mark.parametrize(
    ("url", "events", "why"),
    [
        ("ftp://crm.example.com/", ["*"], "http:// or https://"),
        ("https://u:p@crm.example.com/", ["*"], "user name or password"),
        (URL, [], "at least one"),
        (URL, ["session.paused"], "unknown event type"),
    ],
)
async def test_bad_subscriptions_are_refused(
    database: Database, url: str, events: list[str], why: str
) -> None:
    with pytest.raises(InvalidSubscription, match=why):
        await WebhookStore(database).subscribe(url, events)
    assert await WebhookStore(database).subscriptions() == []


async def test_an_event_is_queued_for_each_subscription_that_wants_it(database: Database) -> None:
    store = WebhookStore(database)
    everything, _ = await store.subscribe(URL, ["*"])
    sessions_only, _ = await store.subscribe(URL, ["session.ended"])
    interactions_only, _ = await store.subscribe(URL, ["interaction.ended"])
    deleted, _ = await store.subscribe(URL, ["*"])
    await store.unsubscribe(deleted.id)

    assert await store.enqueue("evt_1", "session.ended", payload(1), at(0)) == 2
    assert await store.enqueue("evt_2", "interaction.created", payload(2), at(1)) == 1

    [first] = await store.deliveries(sessions_only.id)
    assert (first.event_id, first.event_type, first.payload) == (
        "evt_1",
        "session.ended",
        payload(1),
    )
    assert (first.status, first.attempts, first.next_attempt_at) == (
        DeliveryStatus.PENDING,
        0,
        at(0),
    )
    assert (first.last_status_code, first.last_error, first.delivered_at) == (None, None, None)
    assert [d.event_id for d in await store.deliveries(everything.id)] == ["evt_2", "evt_1"]
    assert await store.deliveries(interactions_only.id) == []
    assert await store.deliveries(deleted.id) == []


async def test_attempts_are_recorded_until_delivered(database: Database) -> None:
    store = WebhookStore(database)
    subscription, secret = await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))

    [claimed] = await store.claim_due(at(0), at(0) + LEASE, 10)
    assert (claimed.url, claimed.secret, claimed.attempts) == (URL, secret, 0)
    assert claimed.payload == payload(1)
    assert claimed.subscription_active
    assert await store.claim_due(at(1), at(1) + LEASE, 10) == [], "leased"

    await store.record_failed_attempt(claimed.id, 503, "HTTP 503: " + "x" * 500, at(30))
    [delivery] = await store.deliveries(subscription.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        503,
    )
    assert delivery.last_error is not None
    assert len(delivery.last_error) == 300
    assert delivery.next_attempt_at == at(30)
    assert await store.claim_due(at(29), at(29) + LEASE, 10) == [], "not due yet"

    [again] = await store.claim_due(at(30), at(30) + LEASE, 10)
    assert again.attempts == 1
    await store.record_delivered(again.id, 204, at(31))
    [delivery] = await store.deliveries(subscription.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        2,
        204,
    )
    assert (delivery.last_error, delivery.next_attempt_at, delivery.delivered_at) == (
        None,
        None,
        at(31),
    )
    assert await store.claim_due(at(99), at(99) + LEASE, 10) == []
    # A late outcome from a worker that lost its lease changes nothing any more.
    await store.record_failed_attempt(again.id, None, "late", None)
    assert (await store.deliveries(subscription.id))[0].status is DeliveryStatus.DELIVERED


async def test_the_last_failed_attempt_fails_the_delivery(database: Database) -> None:
    store = WebhookStore(database)
    subscription, _ = await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))
    [claimed] = await store.claim_due(at(0), at(0) + LEASE, 10)
    await store.record_failed_attempt(claimed.id, None, "no answer within 10 seconds", None)
    [delivery] = await store.deliveries(subscription.id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "no answer within 10 seconds",
    )
    assert delivery.next_attempt_at is None
    assert await store.deliveries(subscription.id, status=DeliveryStatus.PENDING) == []
    assert await store.deliveries(subscription.id, status=DeliveryStatus.FAILED) == [delivery]


async def test_a_lease_that_ran_out_can_be_taken_again(database: Database) -> None:
    store = WebhookStore(database)
    await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))
    [first] = await store.claim_due(at(0), at(40), 10)
    assert await store.claim_due(at(39), at(79), 10) == []
    [second] = await store.claim_due(at(41), at(81), 10)
    assert second.id == first.id


async def test_released_leases_are_due_again_without_an_attempt_counted(
    database: Database,
) -> None:
    store = WebhookStore(database)
    await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))
    [claimed] = await store.claim_due(at(0), at(40), 10)
    await store.release([claimed.id])
    [again] = await store.claim_due(at(1), at(41), 10)
    assert (again.id, again.attempts) == (claimed.id, 0)


async def test_workers_claiming_at_once_never_share_a_delivery(database: Database) -> None:
    store = WebhookStore(database)
    await store.subscribe(URL, ["*"])
    for number in range(30):
        await store.enqueue(f"evt_{number}", "session.ended", payload(number), at(0))
    workers = [WebhookStore(database) for _ in range(4)]
    claims = await asyncio.gather(
        *(worker.claim_due(at(1), at(41), 10) for worker in workers for _ in range(3))
    )
    claimed = [delivery.id for claim in claims for delivery in claim]
    assert len(claimed) == len(set(claimed)), "a delivery was leased twice"
    assert len(claimed) == 30


async def test_deleting_a_subscription_fails_its_pending_deliveries(database: Database) -> None:
    store = WebhookStore(database)
    subscription, _ = await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))
    await store.enqueue("evt_2", "session.ended", payload(2), at(1))
    [claimed, _] = await store.claim_due(at(1), at(41), 10)
    await store.record_delivered(claimed.id, 200, at(2))

    await store.unsubscribe(subscription.id)
    delivered, failed = sorted(await store.deliveries(subscription.id), key=lambda d: d.event_id)
    assert delivered.status is DeliveryStatus.DELIVERED
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.FAILED,
        0,
        SUBSCRIPTION_DELETED,
    )
    assert await store.claim_due(at(99), at(139), 10) == []


async def test_a_delivery_queued_while_its_subscription_was_deleted_is_failed_unsent(
    database: Database,
) -> None:
    store = WebhookStore(database)
    subscription, _ = await store.subscribe(URL, ["*"])
    await store.enqueue("evt_1", "session.ended", payload(1), at(0))
    [claimed] = await store.claim_due(at(0), at(40), 10)
    await store.release([claimed.id])
    # As if the enqueue had raced the deletion: the row is still pending afterwards.
    async with database.sessions.begin() as tx:
        row = await tx.get(WebhookSubscriptionRow, subscription.id)
        assert row is not None
        row.active = False
    [orphan] = await store.claim_due(at(1), at(41), 10)
    assert not orphan.subscription_active
    await store.fail_without_attempt(orphan.id, SUBSCRIPTION_DELETED)
    [delivery] = await store.deliveries(subscription.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 0)


async def test_old_finished_deliveries_are_pruned_pending_ones_kept(database: Database) -> None:
    store = WebhookStore(database)
    subscription, _ = await store.subscribe(URL, ["*"])
    for number in range(3):
        await store.enqueue(f"evt_{number}", "session.ended", payload(number), at(number))
    delivered, failed, _pending = await store.claim_due(at(5), at(45), 10)
    await store.record_delivered(delivered.id, 200, at(6))
    await store.record_failed_attempt(failed.id, 500, "HTTP 500", None)

    assert await store.prune(before=at(0)) == 0
    assert await store.prune(before=at(10)) == 2
    [left] = await store.deliveries(subscription.id)
    assert left.status is DeliveryStatus.PENDING


async def test_deliveries_are_listed_newest_first_up_to_a_limit(database: Database) -> None:
    store = WebhookStore(database)
    subscription, _ = await store.subscribe(URL, ["*"])
    for number in range(5):
        await store.enqueue(f"evt_{number}", "session.ended", payload(number), at(number))
    assert [d.event_id for d in await store.deliveries(subscription.id, limit=2)] == [
        "evt_4",
        "evt_3",
    ]
    with pytest.raises(ValueError, match="limit"):
        await store.deliveries(subscription.id, limit=0)
