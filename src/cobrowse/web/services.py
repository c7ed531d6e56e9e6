"""What the endpoints share: configuration, stores and live state, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis
from starlette.applications import Starlette

from cobrowse.config import Settings
from cobrowse.core.session import Timeouts
from cobrowse.integration.binding import InteractionBinding
from cobrowse.integration.interactions import InteractionEndListener, InteractionLifecycle
from cobrowse.integration.webchat import WebChat
from cobrowse.integration.webhooks import (
    DeliveryPolicy,
    WebhookDeliveryWorker,
    WebhookDispatcher,
)
from cobrowse.live.chat_hub import ChatHub
from cobrowse.live.fanout import RedisFanout
from cobrowse.live.redis_state import RedisState
from cobrowse.live.sessions import LiveSessions
from cobrowse.live.state import MemoryState
from cobrowse.proxy.service import ResourceProxy, build_resource_proxy
from cobrowse.store.api_keys import ApiKeyStore
from cobrowse.store.audit import AuditLog
from cobrowse.store.chats import ChatStore
from cobrowse.store.db import Database
from cobrowse.store.history import SessionHistory
from cobrowse.store.interactions import InteractionStore
from cobrowse.store.restrictions import RestrictionStore
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserStore
from cobrowse.store.webhooks import WebhookStore

STATIC = Path(__file__).parent / "static"
STATIC_DIST = STATIC / "dist"


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    users: UserStore
    sites: SiteStore
    audit: AuditLog
    live: LiveSessions
    restrictions: RestrictionStore
    api_keys: ApiKeyStore
    history: SessionHistory
    interactions: InteractionStore
    interaction_lifecycle: InteractionLifecycle
    webhooks: WebhookStore
    webhook_dispatcher: WebhookDispatcher
    """Where every event for webhook subscribers goes: ``emit(event_type, data)``."""
    webhook_worker: WebhookDeliveryWorker
    resources: ResourceProxy
    webchat: WebChat
    """The built-in web chat; its hub's ``deliver`` is what the fan-out calls."""
    interaction_end_listeners: list[InteractionEndListener] = field(default_factory=list)
    """Told when an interaction ends while sessions bound to it are live (the live
    layer, which ends them)."""

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        audit = AuditLog(db)
        history = SessionHistory(db)
        sites = SiteStore(db)
        interactions = InteractionStore(db)
        webhooks = WebhookStore(db)
        webhook_worker = WebhookDeliveryWorker(webhooks, DeliveryPolicy.of(settings))
        webhook_dispatcher = WebhookDispatcher(webhooks, on_enqueued=webhook_worker.wake)
        bindings = InteractionBinding(interactions, settings.require_interaction)
        live = _live_sessions(settings, audit, history, webhook_dispatcher, bindings)
        interaction_end_listeners: list[InteractionEndListener] = [live]
        lifecycle = InteractionLifecycle(
            interactions, webhook_dispatcher, interaction_end_listeners
        )
        webchat = WebChat(ChatStore(db), lifecycle, ChatHub(live), audit)
        lifecycle.closed_listeners.append(webchat)
        return cls(
            settings=settings,
            db=db,
            users=UserStore(db),
            sites=sites,
            audit=audit,
            live=live,
            restrictions=RestrictionStore(db),
            api_keys=ApiKeyStore(db),
            history=history,
            interactions=interactions,
            interaction_lifecycle=lifecycle,
            webhooks=webhooks,
            webhook_dispatcher=webhook_dispatcher,
            webhook_worker=webhook_worker,
            interaction_end_listeners=interaction_end_listeners,
            resources=build_resource_proxy(settings, sites.resource_policy),
            webchat=webchat,
        )


def _live_sessions(
    settings: Settings,
    audit: AuditLog,
    history: SessionHistory,
    webhooks: WebhookDispatcher,
    bindings: InteractionBinding,
) -> LiveSessions:
    """Memory state by default; with ``redis_url``, state and fan-out shared in Redis."""
    timeouts = Timeouts(
        join=settings.join_timeout_seconds,
        inactivity=settings.inactivity_timeout_seconds,
        customer_grace=settings.customer_grace_seconds,
        agent_grace=settings.agent_grace_seconds,
    )
    limit = settings.join_attempts_per_minute
    if settings.redis_url is None:
        state = MemoryState(timeouts, limit)
        return LiveSessions(audit, state, history=history, webhooks=webhooks, bindings=bindings)
    # A blocking pool: with many frames in flight, callers wait for a connection
    # instead of failing (redis-py's default pool raises once all are busy, which
    # would drop sessions under load).
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=10
    )
    redis = Redis(connection_pool=pool)
    prefix = settings.redis_prefix
    return LiveSessions(
        audit,
        RedisState(redis, prefix, timeouts, limit),
        RedisFanout(redis, prefix),
        history=history,
        webhooks=webhooks,
        bindings=bindings,
    )


def services_of(app: Starlette) -> Services:
    services: Services = app.state.services
    return services
