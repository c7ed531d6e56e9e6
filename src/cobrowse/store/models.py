"""Tables. Changing one needs a migration in ``store/migrations/versions``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    allow_private_addresses: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    """UNSAFE outside a demo or tests: the resource proxy may fetch this site's
    resources from private, loopback and link-local addresses."""


class SiteOrigin(Base):
    __tablename__ = "site_origins"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)


class SiteResourceHost(Base):
    """A host (pattern) the resource proxy may fetch the site's resources from, on top
    of the site's own origins; in the canonical form of ``HostPattern``."""

    __tablename__ = "site_resource_hosts"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(300), primary_key=True)


class SitePhone(Base):
    """A support phone number the site's CallUs widget shows, in the order added."""

    __tablename__ = "site_phones"
    __table_args__ = (UniqueConstraint("site_id", "tel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    """As people read it (core.phones)."""
    tel: Mapped[str] = mapped_column(String(16))
    """Its dialable form: two spellings of the same digits are one number."""
    label: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AgentLogin(Base):
    """A signed-in console. The cookie holds the token; the table only its digest."""

    __tablename__ = "agent_logins"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only record of who did what to which session; never page content."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(9), index=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON)


class SiteRestrictionDocument(Base):
    """A site's DOM restrictions as the customer script receives them (``to_wire``).

    A site without a row has the defaults. ``version`` comes from one counter shared
    by all sites, so the largest version changes whenever any site's restrictions do.
    """

    __tablename__ = "site_restrictions"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A key of the integration API. The key is shown once; the table keeps its digest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionHistoryRow(Base):
    """One co-browse session's metadata (PRODUCT.md §7 E4): who, when, how it ended.

    Never page content or URLs. ``id`` is a surrogate key: a session ID is reused once
    its session has ended, so the live row of an ID is the newest with no ``ended_at``.
    """

    __tablename__ = "session_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(9), index=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32), index=True)
    write_mode_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    write_mode_declined: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mode_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    interaction_id: Mapped[str | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL"), index=True
    )


class InteractionRow(Base):
    """A chat or voice call between a customer and an agent (PRODUCT.md §6 P1).

    ``customer_reference`` is the contact-center system's own handle on the customer
    (a ticket number, a caller ID): it must not carry secrets.
    """

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_agent_state", "agent", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), index=True)
    agent: Mapped[str | None] = mapped_column(String(64))
    customer_reference: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(80))


class WebhookSubscriptionRow(Base):
    """A URL that receives events. The secret is kept as it is, not as a digest:
    signing each delivery needs it."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryRow(Base):
    """One event on its way to one subscription: its attempts and how they went.

    ``claimed_until`` is the lease of the node making the current attempt, so that in a
    cluster each attempt is made by one node only.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(32), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
