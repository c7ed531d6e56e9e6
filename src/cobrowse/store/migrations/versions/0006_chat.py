"""The built-in web chat: who may speak for a chat, and its messages.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column(
            "interaction_id",
            sa.String(32),
            sa.ForeignKey("interactions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        # SHA-256 of the token the customer's browser holds: proof it owns the chat.
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("customer_name", sa.String(80), nullable=True),
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "interaction_id",
            sa.String(32),
            sa.ForeignKey("interactions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sender", sa.String(8), nullable=False),
        sa.Column("author", sa.String(80), nullable=True),
        sa.Column("text", sa.String(2000), nullable=False),
        # Set on the co-browse request the chat carries to its agent.
        sa.Column("session_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_messages_interaction", "chat_messages", ["interaction_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_chat_messages_interaction", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_table("chats")
