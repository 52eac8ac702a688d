"""Snapshots say whether a clone is platform-carried (``propagation: auto``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: instant on PostgreSQL 11+ and SQLite, however many rows there are.
    op.add_column(
        "snapshots",
        sa.Column("carried", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("carried")
