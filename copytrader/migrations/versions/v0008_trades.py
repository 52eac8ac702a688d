"""Closed trades of masters and clones, from the platform's webhooks (ROI, tracking error).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trades",
        sa.Column("bot_id", sa.String(), nullable=False),
        sa.Column("trade_id", sa.String(), nullable=False),
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("follower", sa.String(), nullable=True),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("profit_pct", sa.Float(), nullable=False),
        sa.Column("profit_usd", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "trade_id"),
    )
    op.create_index("ix_trades_master_closed_at", "trades", ["master", "closed_at"])
    op.create_index("ix_trades_follower_closed_at", "trades", ["follower", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_trades_follower_closed_at", table_name="trades")
    op.drop_index("ix_trades_master_closed_at", table_name="trades")
    op.drop_table("trades")
