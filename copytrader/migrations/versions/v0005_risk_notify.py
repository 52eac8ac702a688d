"""Risk guards and notifications: each link's risk state, failure episodes, the outbox and
its per-sink deliveries.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "risk_states",
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("follower", sa.String(), nullable=False),
        sa.Column("track_bot", sa.String(), nullable=True),
        _ts("track_since"),
        sa.Column("clone_base", sa.Float(), nullable=True),
        sa.Column("master_base", sa.Float(), nullable=True),
        sa.Column("peak", sa.Float(), nullable=True),
        sa.Column("hold_rule", sa.String(), nullable=True),
        sa.Column("hold_value", sa.Float(), nullable=True),
        sa.Column("hold_threshold", sa.Float(), nullable=True),
        _ts("hold_since"),
        sa.Column("hold_rules", sa.String(), nullable=True),
        sa.Column("hold_mode", sa.String(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("master", "follower"),
    )
    op.create_index("ix_risk_states_hold_mode", "risk_states", ["hold_mode"])
    op.create_table(
        "episodes",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("master", sa.String(), nullable=True),
        sa.Column("follower", sa.String(), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        _ts("since", nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        _ts("next_at"),
        _ts("settled_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifications_next_at", "notifications", ["next_at"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    op.create_table(
        "notification_deliveries",
        sa.Column("notification_id", sa.String(), nullable=False),
        sa.Column("sink", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_at"),
        _ts("last_attempt_at"),
        _ts("delivered_at"),
        _ts("gave_up_at"),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", "sink"),
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notifications_created_at", table_name="notifications")
    op.drop_index("ix_notifications_next_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("episodes")
    op.drop_index("ix_risk_states_hold_mode", table_name="risk_states")
    op.drop_table("risk_states")
