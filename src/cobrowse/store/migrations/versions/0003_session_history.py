"""Session history: one row of metadata per co-browse session (never page content).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_history",
        # A surrogate key: session IDs are reused once a session has ended.
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.String(9), nullable=False, index=True),
        sa.Column("site", sa.String(64), nullable=False, index=True),
        sa.Column("agent", sa.String(64), nullable=True, index=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True, index=True),
        sa.Column("write_mode_requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("write_mode_declined", sa.Integer, nullable=False, server_default="0"),
        sa.Column("mode_changes", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("session_history")
