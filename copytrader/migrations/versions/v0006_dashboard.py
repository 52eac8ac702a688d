"""The dashboard: each master's last seen settings and script (``master_states``), and a
partial index over the master rows of the snapshots (the master ROI series, sampled).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "master_states",
        sa.Column("master", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("bot_type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("script", sa.JSON(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("master"),
    )
    op.create_index(
        "ix_snapshots_master_rows",
        "snapshots",
        ["master", "ts"],
        sqlite_where=sa.text("follower IS NULL"),
        postgresql_where=sa.text("follower IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_snapshots_master_rows", table_name="snapshots")
    op.drop_table("master_states")
