"""Support phone numbers per site, for the CallUs widget.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_phones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("tel", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=True),
        sa.UniqueConstraint("site_id", "tel"),
    )


def downgrade() -> None:
    op.drop_table("site_phones")
