"""Resource proxy: hosts each site's resources may come from, and the unsafe switch
that lets a site's resources come from private addresses (demo and tests only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_resource_hosts",
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("host", sa.String(300), primary_key=True),
    )
    # Plain ALTER TABLE, not a batch: on SQLite a batch copies and drops the sites
    # table, and dropping it would cascade to every table that refers to it.
    op.add_column(
        "sites",
        sa.Column("allow_private_addresses", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("sites", "allow_private_addresses")  # SQLite 3.35 or newer
    op.drop_table("site_resource_hosts")
