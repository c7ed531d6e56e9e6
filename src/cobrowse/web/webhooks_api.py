"""Webhook subscriptions in the REST API: subscribe a URL to events, list and delete
subscriptions, and see how each delivery went."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from cobrowse.core.webhooks import (
    EVERY_EVENT,
    MAX_URL_LENGTH,
    SECRET_PREFIX,
    DeliveryStatus,
    WebhookEvent,
)
from cobrowse.store import webhooks as store
from cobrowse.store.history import MAX_SEARCH_LIMIT
from cobrowse.web.api_base import (
    UNAUTHORIZED,
    ApiKeyName,
    ErrorBody,
    ExceptionHandler,
    ServicesDep,
    api_key_name,
    error_response,
    sentence,
)

_EXAMPLE_ID = "wh_q4kzt2m7xwbn3c5yrd6hfj2a"
_EVENT_NAMES: list[JsonValue] = [EVERY_EVENT, *(event.value for event in WebhookEvent)]


class NewSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="Where events are POSTed: an http:// or https:// URL, without a user name "
        "or password (check the `Cobrowse-Signature` header instead). Redirects are not "
        "followed.",
        examples=["https://crm.example.com/hooks/cobrowse"],
    )
    events: list[str] = Field(
        min_length=1,
        max_length=len(_EVENT_NAMES),
        description=f'The event types to receive, or `["{EVERY_EVENT}"]` for every type '
        "(including types added later).",
        examples=[["session.ended", "interaction.ended"]],
        json_schema_extra={"items": {"type": "string", "enum": _EVENT_NAMES}},
    )


class Subscription(BaseModel):
    """A URL subscribed to events. Its secret is shown once, at creation."""

    id: str = Field(description="Opaque ID of the subscription.", examples=[_EXAMPLE_ID])
    url: str = Field(description="Where events are POSTed.")
    events: list[str] = Field(description=f'Event types it receives; `["{EVERY_EVENT}"]`: all.')
    active: bool = Field(description="False once the subscription has been deleted.")
    created_at: datetime = Field(description="When it was created (UTC).")

    @classmethod
    def of(cls, subscription: store.Subscription) -> Subscription:
        return cls(
            id=subscription.id,
            url=subscription.url,
            events=list(subscription.events),
            active=subscription.active,
            created_at=subscription.created_at,
        )


class CreatedSubscription(Subscription):
    secret: str = Field(
        description="The key that signs every delivery (HMAC-SHA256, see the "
        "`Cobrowse-Signature` header). Shown this once: store it with your receiver. "
        "cobrowse keeps it in its database, since signing needs it.",
        examples=[f"{SECRET_PREFIX}Zk3...r9Q"],
    )


class Delivery(BaseModel):
    """One event on its way to the subscription, and how its attempts went."""

    id: str = Field(
        description="Opaque ID of the delivery, sent as the `Cobrowse-Delivery` header; the "
        "same on every attempt, so receivers can drop duplicates.",
        examples=["whd_7b2kq5xzm3wt4hn6rjcyda5f"],
    )
    event_id: str = Field(
        description="ID of the event (the payload's `id`); shared by the deliveries of one "
        "event to several subscriptions."
    )
    event_type: str = Field(description="The event type.", examples=["interaction.ended"])
    status: DeliveryStatus = Field(
        description="`pending` (an attempt is due at `next_attempt_at`), `delivered` (the "
        "receiver answered 2xx) or `failed` (every attempt failed, or the subscription was "
        "deleted first)."
    )
    attempts: int = Field(description="Attempts made so far.")
    last_status_code: int | None = Field(
        description="HTTP status of the last answer; null if none came (timeout, refused "
        "connection) or no attempt was made yet."
    )
    last_error: str | None = Field(
        description="Why the last attempt failed, with at most the first 200 bytes of the "
        "receiver's answer; null after success or before any attempt."
    )
    created_at: datetime = Field(description="When the event happened (UTC).")
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due; null once delivered or failed."
    )
    delivered_at: datetime | None = Field(description="When it was delivered; null until then.")
    payload: dict[str, Any] = Field(description="The JSON object the receiver gets.")

    @classmethod
    def of(cls, delivery: store.Delivery) -> Delivery:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            payload=delivery.payload,
        )


SubscriptionId = Annotated[
    str, Path(description="The subscription's ID.", max_length=64, examples=[_EXAMPLE_ID])
]

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No subscription has this ID (`unknown_webhook`)."}
}

router = APIRouter(
    prefix="/webhooks",
    tags=["webhooks"],
    dependencies=[Depends(api_key_name)],
    responses=UNAUTHORIZED,
)


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to events",
    responses={
        422: {
            "model": ErrorBody,
            "description": "The URL cannot receive webhooks or an event type is unknown "
            "(`invalid_webhook`, saying why), or the body is malformed (`invalid_request`).",
        }
    },
)
async def create_webhook(
    body: NewSubscription,
    services: ServicesDep,
    api_key: ApiKeyName,
    request: Request,
    response: Response,
) -> CreatedSubscription:
    """Deliveries start with the next event. The answer holds the subscription's secret:
    it is shown this once."""
    subscription, secret = await services.webhooks.subscribe(body.url, body.events)
    await services.audit.record(
        "webhook_subscribed",
        "api",
        webhook=subscription.id,
        # Without the query, where receivers sometimes put a token of their own.
        url=urlsplit(subscription.url)._replace(query="").geturl(),
        events=",".join(subscription.events),
        api_key=api_key,
    )
    response.headers["Location"] = str(
        request.url_for("get_webhook", subscription_id=subscription.id)
    )
    return CreatedSubscription(**Subscription.of(subscription).model_dump(), secret=secret)


@router.get("", summary="List webhook subscriptions")
async def list_webhooks(services: ServicesDep) -> list[Subscription]:
    """The active subscriptions, oldest first (never their secrets)."""
    return [
        Subscription.of(subscription) for subscription in await services.webhooks.subscriptions()
    ]


@router.get("/{subscription_id}", summary="Read a webhook subscription", responses=_UNKNOWN)
async def get_webhook(subscription_id: SubscriptionId, services: ServicesDep) -> Subscription:
    """One subscription, a deleted one too (`active: false`)."""
    return Subscription.of(await services.webhooks.subscription(subscription_id))


@router.delete(
    "/{subscription_id}",
    status_code=204,
    summary="Delete a webhook subscription",
    responses=_UNKNOWN,
)
async def delete_webhook(
    subscription_id: SubscriptionId, services: ServicesDep, api_key: ApiKeyName
) -> Response:
    """No event is sent to it any more; its pending deliveries fail. Its past deliveries
    stay readable. Deleting it again changes nothing."""
    await services.webhooks.unsubscribe(subscription_id)
    await services.audit.record("webhook_deleted", "api", webhook=subscription_id, api_key=api_key)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    summary="How deliveries to a subscription went",
    responses={
        **_UNKNOWN,
        422: {"model": ErrorBody, "description": "A parameter is malformed (`invalid_request`)."},
    },
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    services: ServicesDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries in this status.")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="At most this many deliveries.")
    ] = 100,
) -> list[Delivery]:
    """The subscription's deliveries, newest first, with their status, attempts, last
    answer and times. Delivered and failed ones are kept for `webhook_retention_days`."""
    deliveries = await services.webhooks.deliveries(subscription_id, status=status, limit=limit)
    return [Delivery.of(delivery) for delivery in deliveries]


async def _webhook_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, store.WebhookError)
    if isinstance(exc, store.UnknownSubscription):
        return error_response(404, "unknown_webhook", sentence(str(exc)))
    return error_response(422, "invalid_webhook", sentence(str(exc)))


ERROR_HANDLERS: tuple[tuple[type[Exception], ExceptionHandler], ...] = (
    (store.WebhookError, _webhook_error),
)
