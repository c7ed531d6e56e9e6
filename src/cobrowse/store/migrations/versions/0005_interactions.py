"""Primary interactions, the binding of sessions to them, and webhooks.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        # Null while a chat waits in a queue for an agent.
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("customer_reference", sa.String(200), nullable=True),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(80), nullable=True),
    )
    # An agent's open interactions are looked up on every join by session ID.
    op.create_index("ix_interactions_agent_state", "interactions", ["agent", "state"])

    # Batch mode: SQLite cannot add a foreign key to an existing table in place.
    with op.batch_alter_table("session_history") as table:
        table.add_column(sa.Column("interaction_id", sa.String(32), nullable=True))
        table.create_index("ix_session_history_interaction_id", ["interaction_id"])
        table.create_foreign_key(
            "fk_session_history_interaction_id",
            "interactions",
            ["interaction_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        # Kept as it is: signing every delivery needs the secret itself.
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "subscription_id",
            sa.String(32),
            sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("event_id", sa.String(32), nullable=False, index=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    # What every delivery worker asks, every poll: which pending deliveries are due.
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("session_history") as table:
        table.drop_constraint("fk_session_history_interaction_id", type_="foreignkey")
        table.drop_index("ix_session_history_interaction_id")
        table.drop_column("interaction_id")
    op.drop_table("interactions")
