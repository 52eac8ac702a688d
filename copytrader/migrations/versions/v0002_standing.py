"""Standing conditions: audited once for the life of the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standing_conditions",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("follower", sa.String(), nullable=True),
        sa.Column("bot", sa.String(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_standing_conditions_master", "standing_conditions", ["master"])


def downgrade() -> None:
    op.drop_index("ix_standing_conditions_master", table_name="standing_conditions")
    op.drop_table("standing_conditions")
