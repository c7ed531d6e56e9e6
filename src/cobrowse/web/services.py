"""What the endpoints share: configuration, stores and live state, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from starlette.applications import Starlette

from cobrowse.config import Settings
from cobrowse.core.session import Timeouts
from cobrowse.live.fanout import RedisFanout
from cobrowse.live.redis_state import RedisState
from cobrowse.live.sessions import LiveSessions
from cobrowse.live.state import MemoryState
from cobrowse.proxy.service import ResourceProxy, build_resource_proxy
from cobrowse.store.api_keys import ApiKeyStore
from cobrowse.store.audit import AuditLog
from cobrowse.store.db import Database
from cobrowse.store.history import SessionHistory
from cobrowse.store.restrictions import RestrictionStore
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserStore

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
    resources: ResourceProxy

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        audit = AuditLog(db)
        history = SessionHistory(db)
        sites = SiteStore(db)
        return cls(
            settings=settings,
            db=db,
            users=UserStore(db),
            sites=sites,
            audit=audit,
            live=_live_sessions(settings, audit, history),
            restrictions=RestrictionStore(db),
            api_keys=ApiKeyStore(db),
            history=history,
            resources=build_resource_proxy(settings, sites.resource_policy),
        )


def _live_sessions(settings: Settings, audit: AuditLog, history: SessionHistory) -> LiveSessions:
    """Memory state by default; with ``redis_url``, state and fan-out shared in Redis."""
    timeouts = Timeouts(
        join=settings.join_timeout_seconds,
        inactivity=settings.inactivity_timeout_seconds,
        customer_grace=settings.customer_grace_seconds,
        agent_grace=settings.agent_grace_seconds,
    )
    limit = settings.join_attempts_per_minute
    if settings.redis_url is None:
        return LiveSessions(audit, MemoryState(timeouts, limit), history=history)
    redis = Redis.from_url(settings.redis_url)
    prefix = settings.redis_prefix
    return LiveSessions(
        audit,
        RedisState(redis, prefix, timeouts, limit),
        RedisFanout(redis, prefix),
        history=history,
    )


def services_of(app: Starlette) -> Services:
    services: Services = app.state.services
    return services
