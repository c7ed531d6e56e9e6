"""Webhook subscriptions and the deliveries of events to them.

A delivery row is written when an event happens (``enqueue``: one row per subscription
that wants the event) and is then worked off by the delivery workers of every node.
A worker takes due deliveries by writing a lease into ``claimed_until`` with one
conditional UPDATE; two nodes asking at once never get the same one, on SQLite (one
writer at a time) or PostgreSQL (``FOR UPDATE SKIP LOCKED``: each takes rows the other
has not locked). A node that dies mid-attempt leaves a lease that runs out, and the
delivery is attempted again: deliveries are at least once.

The secret of a subscription is stored as it is, unlike API keys, because every
delivery is signed with it.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, or_, select, update

from cobrowse.core.ids import new_public_id
from cobrowse.core.webhooks import (
    DELIVERY_ID_PREFIX,
    SUBSCRIPTION_ID_PREFIX,
    DeliveryStatus,
    check_event_selection,
    check_webhook_url,
    new_webhook_secret,
    selects,
)
from cobrowse.store.db import Database, as_utc
from cobrowse.store.history import MAX_SEARCH_LIMIT, utc
from cobrowse.store.models import WebhookDeliveryRow, WebhookSubscriptionRow

MAX_ERROR_LENGTH = 300
SUBSCRIPTION_DELETED = "the subscription was deleted before this delivery succeeded"


class WebhookError(Exception):
    """A subscription could not be made or found; the message says why."""


class InvalidSubscription(WebhookError):
    pass


class UnknownSubscription(WebhookError):
    def __init__(self, subscription_id: str) -> None:
        self.subscription_id = subscription_id
        super().__init__(f"there is no webhook subscription {subscription_id!r}")


@dataclass(frozen=True)
class Subscription:
    """What may be shown about a subscription: never its secret."""

    id: str
    url: str
    events: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    payload: dict[str, object]
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    """When the next attempt is due; None once the delivery is delivered or failed."""
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class ClaimedDelivery:
    """What a worker needs to make one attempt, under its lease."""

    id: str
    event_type: str
    payload: dict[str, object]
    attempts: int
    """Attempts made before this one."""
    url: str
    secret: str
    subscription_active: bool


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribe(
        self, url: str, events: Sequence[str], at: datetime | None = None
    ) -> tuple[Subscription, str]:
        """A new active subscription and its secret, which cannot be read back later
        through the API (the database keeps it, for signing)."""
        try:
            checked_url = check_webhook_url(url)
            selection = check_event_selection(events)
        except ValueError as exc:
            raise InvalidSubscription(str(exc)) from None
        secret = new_webhook_secret()
        row = WebhookSubscriptionRow(
            id=new_public_id(SUBSCRIPTION_ID_PREFIX),
            url=checked_url,
            events=list(selection),
            secret=secret,
            active=True,
            created_at=utc(at or datetime.now(UTC)),
        )
        async with self._db.sessions.begin() as tx:
            tx.add(row)
        return _subscription(row), secret

    async def subscriptions(self) -> builtins.list[Subscription]:
        """The active subscriptions, oldest first."""
        async with self._db.sessions() as tx:
            rows = await tx.scalars(
                select(WebhookSubscriptionRow)
                .where(WebhookSubscriptionRow.active.is_(True))
                .order_by(WebhookSubscriptionRow.created_at, WebhookSubscriptionRow.id)
            )
            return [_subscription(row) for row in rows.all()]

    async def subscription(self, subscription_id: str) -> Subscription:
        """A subscription, deleted ones included (``active`` False)."""
        async with self._db.sessions() as tx:
            row = await tx.get(WebhookSubscriptionRow, subscription_id)
            if row is None:
                raise UnknownSubscription(subscription_id)
            return _subscription(row)

    async def unsubscribe(self, subscription_id: str, at: datetime | None = None) -> None:
        """Stop sending to the subscription; its pending deliveries fail. Its past
        deliveries stay readable. Unsubscribing twice is harmless."""
        async with self._db.sessions.begin() as tx:
            row = await tx.get(WebhookSubscriptionRow, subscription_id)
            if row is None:
                raise UnknownSubscription(subscription_id)
            row.active = False
            await tx.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.subscription_id == subscription_id)
                .where(WebhookDeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.FAILED.value, last_error=SUBSCRIPTION_DELETED)
                .execution_options(synchronize_session=False)
            )

    async def enqueue(
        self, event_id: str, event_type: str, payload: dict[str, object], at: datetime
    ) -> int:
        """One pending delivery, due at once, per active subscription that wants this
        type of event; how many were written."""
        moment = utc(at)
        async with self._db.sessions.begin() as tx:
            subscriptions = await tx.scalars(
                select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.active.is_(True))
            )
            rows = [
                WebhookDeliveryRow(
                    id=new_public_id(DELIVERY_ID_PREFIX),
                    subscription_id=subscription.id,
                    event_id=event_id,
                    event_type=event_type,
                    payload=payload,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=moment,
                    created_at=moment,
                )
                for subscription in subscriptions.all()
                if selects(subscription.events, event_type)
            ]
            tx.add_all(rows)
        return len(rows)

    async def deliveries(
        self,
        subscription_id: str,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> builtins.list[Delivery]:
        """The subscription's deliveries, newest first, at most ``limit``."""
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"limit must be from 1 to {MAX_SEARCH_LIMIT}")
        conditions: builtins.list[ColumnElement[bool]] = [
            WebhookDeliveryRow.subscription_id == subscription_id
        ]
        if status is not None:
            conditions.append(WebhookDeliveryRow.status == status.value)
        async with self._db.sessions() as tx:
            if await tx.get(WebhookSubscriptionRow, subscription_id) is None:
                raise UnknownSubscription(subscription_id)
            rows = await tx.scalars(
                select(WebhookDeliveryRow)
                .where(*conditions)
                .order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
                .limit(limit)
            )
            return [_delivery(row) for row in rows.all()]

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[ClaimedDelivery]:
        """Take up to ``limit`` due deliveries that no other worker holds, leasing them
        until ``lease_until``; the oldest due first."""
        moment = utc(now)
        claimable = (
            WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= moment,
            or_(
                WebhookDeliveryRow.claimed_until.is_(None),
                WebhookDeliveryRow.claimed_until < moment,
            ),
        )
        # One statement, so that concurrent workers take different deliveries: on
        # PostgreSQL the inner SELECT skips rows another worker's UPDATE holds locked
        # (and the outer conditions are checked again on rows it waited for); SQLite
        # runs one writing statement at a time and ignores FOR UPDATE.
        due = (
            select(WebhookDeliveryRow.id)
            .where(*claimable)
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._db.sessions.begin() as tx:
            claimed = (
                await tx.scalars(
                    update(WebhookDeliveryRow)
                    .where(WebhookDeliveryRow.id.in_(due), *claimable)
                    .values(claimed_until=utc(lease_until))
                    .returning(WebhookDeliveryRow.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            if not claimed:
                return []
            rows = await tx.execute(
                select(WebhookDeliveryRow, WebhookSubscriptionRow)
                .join(
                    WebhookSubscriptionRow,
                    WebhookSubscriptionRow.id == WebhookDeliveryRow.subscription_id,
                )
                .where(WebhookDeliveryRow.id.in_(claimed))
                .order_by(WebhookDeliveryRow.next_attempt_at)
            )
            return [
                ClaimedDelivery(
                    id=delivery.id,
                    event_type=delivery.event_type,
                    payload=delivery.payload,
                    attempts=delivery.attempts,
                    url=subscription.url,
                    secret=subscription.secret,
                    subscription_active=subscription.active,
                )
                for delivery, subscription in rows.all()
            ]

    async def record_delivered(self, delivery_id: str, status_code: int, at: datetime) -> None:
        await self._record(
            delivery_id,
            status=DeliveryStatus.DELIVERED.value,
            last_status_code=status_code,
            last_error=None,
            delivered_at=utc(at),
        )

    async def record_failed_attempt(
        self,
        delivery_id: str,
        status_code: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> None:
        """An attempt failed: try again at ``retry_at``, or never (None: failed)."""
        values: dict[str, object] = {
            "last_status_code": status_code,
            "last_error": error[:MAX_ERROR_LENGTH],
        }
        if retry_at is None:
            values["status"] = DeliveryStatus.FAILED.value
        else:
            values["next_attempt_at"] = utc(retry_at)
        await self._record(delivery_id, **values)

    async def fail_without_attempt(self, delivery_id: str, error: str) -> None:
        """Give up on a delivery that will not be attempted (its subscription is gone)."""
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id == delivery_id)
                .where(WebhookDeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.FAILED.value, last_error=error, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def release(self, delivery_ids: Sequence[str]) -> None:
        """Give back leases without counting an attempt (the worker is stopping)."""
        if not delivery_ids:
            return
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id.in_(delivery_ids))
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def prune(self, before: datetime) -> int:
        """Delete delivered and failed deliveries created before ``before``; how many."""
        async with self._db.sessions.begin() as tx:
            pruned = await tx.scalars(
                delete(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.status != DeliveryStatus.PENDING.value)
                .where(WebhookDeliveryRow.created_at < utc(before))
                .returning(WebhookDeliveryRow.id)
                .execution_options(synchronize_session=False)
            )
            return len(pruned.all())

    async def _record(self, delivery_id: str, **values: object) -> None:
        """The outcome of an attempt: one more attempt counted, the lease given back."""
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id == delivery_id)
                .where(WebhookDeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(attempts=WebhookDeliveryRow.attempts + 1, claimed_until=None, **values)
                .execution_options(synchronize_session=False)
            )


def _subscription(row: WebhookSubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        events=tuple(row.events),
        active=row.active,
        created_at=as_utc(row.created_at),
    )


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    status = DeliveryStatus(row.status)
    return Delivery(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=row.payload,
        status=status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        next_attempt_at=(as_utc(row.next_attempt_at) if status is DeliveryStatus.PENDING else None),
        created_at=as_utc(row.created_at),
        delivered_at=as_utc(row.delivered_at) if row.delivered_at is not None else None,
    )
