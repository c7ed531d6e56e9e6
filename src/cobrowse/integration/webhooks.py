"""Webhooks on the move: the dispatcher records events, the worker delivers them.

``WebhookDispatcher.emit`` only writes delivery rows (no network in the caller's path).
``WebhookDeliveryWorker.run`` is a background task on every node: it leases due
deliveries from the store (one node per attempt, see ``store/webhooks.py``), POSTs them
signed, and records the outcome: delivered on 2xx, otherwise another attempt after the
retry schedule's wait, or failed once the schedule is used up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from cobrowse import __version__
from cobrowse.config import Settings
from cobrowse.core.ids import new_public_id
from cobrowse.core.webhooks import (
    EVENT_ID_PREFIX,
    WebhookEvent,
    event_envelope,
    retry_delay,
    signature_header,
)
from cobrowse.store.webhooks import SUBSCRIPTION_DELETED, ClaimedDelivery, WebhookStore

log = logging.getLogger("cobrowse.webhooks")

MAX_CONCURRENT_ATTEMPTS = 8
RELEASE_SECONDS = 5.0
"""How long a stopping worker tries to give its leases back."""
"""Attempts one node has in flight at once; a slow receiver holds up at most these."""
LEASE_MARGIN_SECONDS = 30.0
"""How much longer than the request timeout a lease lasts, so that a lease never runs
out (and another node starts a second attempt) while the first is still going."""
PRUNE_EVERY_SECONDS = 3600.0
MAX_ERROR_BODY_BYTES = 200
"""Of a refusing receiver's answer, only this much is kept, as a hint in ``last_error``."""
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the worker tries: from the configuration, short in tests."""

    retry_seconds: tuple[float, ...]
    timeout_seconds: float
    poll_seconds: float
    retention: timedelta

    @classmethod
    def of(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            retry_seconds=tuple(settings.webhook_retry_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
            poll_seconds=settings.webhook_poll_seconds,
            retention=timedelta(days=settings.webhook_retention_days),
        )


class WebhookDispatcher:
    """Turns events into pending deliveries, one per subscription that wants them."""

    def __init__(self, store: WebhookStore, on_enqueued: Callable[[], None]) -> None:
        self._store = store
        self._on_enqueued = on_enqueued

    async def emit(self, event_type: str, data: dict[str, object]) -> None:
        """Record the event for every subscription to its type.

        ``data`` is metadata only, never page content. A type that is not a
        ``WebhookEvent`` is a programming error (ValueError). A failure to write is
        logged, not raised: the caller's own work (a session ending, an interaction
        created) has happened and must not fail because of its notification.
        """
        event = WebhookEvent(event_type)
        event_id = new_public_id(EVENT_ID_PREFIX)
        now = datetime.now(UTC)
        try:
            written = await self._store.enqueue(
                event_id, event.value, event_envelope(event_id, event.value, now, data), now
            )
        except Exception:
            log.exception(
                "webhook event not recorded", extra={"event": event.value, "event_id": event_id}
            )
            return
        if written:
            self._on_enqueued()


class WebhookDeliveryWorker:
    def __init__(
        self,
        store: WebhookStore,
        policy: DeliveryPolicy,
        spread: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._policy = policy
        self._spread = spread
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll (an event was
        recorded on this node)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled. Attempts still in flight then are abandoned and their
        leases given back, so another node (or this one, restarted) makes them again."""
        in_flight: dict[asyncio.Task[None], str] = {}
        last_prune = -math.inf

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.pop(task, None)
            self._wake.set()  # room for another attempt

        client = httpx.AsyncClient(
            timeout=self._policy.timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": f"cobrowse-webhooks/{__version__}"},
        )
        try:
            while True:
                if time.monotonic() - last_prune >= PRUNE_EVERY_SECONDS:
                    last_prune = time.monotonic()
                    await self._prune()
                room = MAX_CONCURRENT_ATTEMPTS - len(in_flight)
                claimed = await self._claim(room) if room > 0 else []
                for delivery in claimed:
                    task = asyncio.create_task(self._attempt(client, delivery))
                    in_flight[task] = delivery.id
                    task.add_done_callback(finished)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._policy.poll_seconds)
                # Cleared before the next claim, so an event recorded from here on is
                # found by that claim or wakes the wait after it: none is missed.
                self._wake.clear()
        finally:
            abandoned = dict(in_flight)
            for task in abandoned:
                task.cancel()
            await asyncio.gather(*abandoned, return_exceptions=True)
            try:
                # Bounded: a stopping node must not wait on a database that is slow or
                # holds the rows locked; the leases run out on their own anyway.
                await asyncio.wait_for(
                    self._store.release(list(abandoned.values())), RELEASE_SECONDS
                )
            except Exception:
                log.warning("webhook leases not given back; they run out on their own")
            await client.aclose()

    async def _claim(self, room: int) -> list[ClaimedDelivery]:
        now = datetime.now(UTC)
        lease = timedelta(seconds=self._policy.timeout_seconds + LEASE_MARGIN_SECONDS)
        try:
            return await self._store.claim_due(now, now + lease, room)
        except Exception:
            # The database is away; the next poll tries again.
            log.warning("could not look for due webhook deliveries", exc_info=True)
            return []

    async def _prune(self) -> None:
        try:
            pruned = await self._store.prune(datetime.now(UTC) - self._policy.retention)
        except Exception:
            log.warning("could not prune old webhook deliveries", exc_info=True)
            return
        if pruned:
            log.info("old webhook deliveries pruned", extra={"deliveries": pruned})

    async def _attempt(self, client: httpx.AsyncClient, delivery: ClaimedDelivery) -> None:
        try:
            if not delivery.subscription_active:
                await self._store.fail_without_attempt(delivery.id, SUBSCRIPTION_DELETED)
                return
            status_code, error = await self._post(client, delivery)
            if error is None:
                assert status_code is not None
                await self._store.record_delivered(delivery.id, status_code, datetime.now(UTC))
                log.info(
                    "webhook delivered",
                    extra={"delivery": delivery.id, "event": delivery.event_type},
                )
                return
            failed_attempts = delivery.attempts + 1
            delay = retry_delay(failed_attempts, self._policy.retry_seconds, self._spread())
            retry_at = datetime.now(UTC) + timedelta(seconds=delay) if delay is not None else None
            await self._store.record_failed_attempt(delivery.id, status_code, error, retry_at)
            log.warning(
                "webhook attempt failed",
                extra={
                    "delivery": delivery.id,
                    "event": delivery.event_type,
                    "attempt": failed_attempts,
                    "status_code": status_code,
                    "retry_in_seconds": round(delay, 1) if delay is not None else None,
                },
            )
        except Exception:
            # The lease runs out and the delivery is attempted again.
            log.exception("webhook attempt broke", extra={"delivery": delivery.id})

    async def _post(
        self, client: httpx.AsyncClient, delivery: ClaimedDelivery
    ) -> tuple[int | None, str | None]:
        """POST the delivery; its status code and, unless it succeeded, why not."""
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Cobrowse-Event": delivery.event_type,
            "Cobrowse-Delivery": delivery.id,
            "Cobrowse-Timestamp": str(timestamp),
            "Cobrowse-Signature": signature_header(delivery.secret, timestamp, body),
        }
        try:
            async with client.stream("POST", delivery.url, content=body, headers=headers) as answer:
                if answer.is_success:
                    return answer.status_code, None
                return answer.status_code, await _refusal(answer)
        except httpx.TimeoutException:
            return None, f"no answer within {self._policy.timeout_seconds:g} seconds"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _refusal(answer: httpx.Response) -> str:
    """Why a non-2xx answer counts as a failure, with the start of its body as a hint."""
    if answer.is_redirect:
        location = answer.headers.get("location", "")[:MAX_ERROR_BODY_BYTES]
        return (
            f"HTTP {answer.status_code} redirect to {location!r}: redirects are not "
            "followed, subscribe the final URL"
        )
    start = b""
    async for chunk in answer.aiter_bytes():
        start += chunk
        if len(start) >= MAX_ERROR_BODY_BYTES:
            break
    hint = _UNPRINTABLE.sub(" ", start[:MAX_ERROR_BODY_BYTES].decode("utf-8", "replace")).strip()
    return f"HTTP {answer.status_code}" + (f": {hint}" if hint else "")
