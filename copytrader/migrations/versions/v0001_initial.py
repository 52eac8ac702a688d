"""Initial schema: masters, links, runs, snapshots, audit events.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _big_id() -> sa.Column[object]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "masters",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("policy_file", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "links",
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("follower", sa.String(), nullable=False),
        sa.Column("bot_id", sa.String(), nullable=True),
        _ts("intent_at", nullable=True),
        sa.Column("applied", sa.JSON(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        _ts("updated_at"),
        _ts("pending_until", nullable=True),
        sa.PrimaryKeyConstraint("master", "follower"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("actions_ok", sa.Integer(), nullable=False),
        sa.Column("actions_failed", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "snapshots",
        _big_id(),
        sa.Column("run_id", sa.String(), nullable=False),
        _ts("ts"),
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("follower", sa.String(), nullable=True),
        sa.Column("bot_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("roi", sa.Float(), nullable=True),
        sa.Column("profit", sa.Float(), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=False),
        sa.Column("in_sync", sa.Boolean(), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_snapshots_master_ts", "snapshots", ["master", "ts"])
    op.create_index("ix_snapshots_follower_ts", "snapshots", ["follower", "ts"])
    op.create_index("ix_snapshots_run_master", "snapshots", ["run_id", "master"])
    op.create_index("ix_snapshots_ts", "snapshots", ["ts"])
    op.create_table(
        "audit_events",
        _big_id(),
        _ts("ts"),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("master", sa.String(), nullable=True),
        sa.Column("follower", sa.String(), nullable=True),
        sa.Column("bot", sa.String(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("policy_file", sa.String(), nullable=True),
        sa.Column("policy_sha256", sa.String(), nullable=True),
        sa.Column("layers", sa.JSON(), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("event_key", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_ts", "audit_events", ["ts"])
    op.create_index("ux_audit_events_event_key", "audit_events", ["event_key"], unique=True)
    op.create_index("ix_audit_events_outcome", "audit_events", ["outcome"])
    op.create_index("ix_audit_events_master_ts", "audit_events", ["master", "ts"])
    op.create_index("ix_audit_events_follower_ts", "audit_events", ["follower", "ts"])
    op.create_index("ix_audit_events_action_ts", "audit_events", ["action", "ts"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("snapshots")
    op.drop_table("runs")
    op.drop_table("links")
    op.drop_table("masters")
