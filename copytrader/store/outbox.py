"""The outbox's read and bookkeeping side, for the notification sender
(:mod:`copytrader.notify.sender`): which notifications are due, what each delivery did, the
backlog, and pruning. Rows are written with their audit events
(:mod:`copytrader.store.outbox_rows`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from copytrader.core.records import Delivery, Notification
from copytrader.store import tables
from copytrader.store.base import StoreBase

_DELIVERY_COLUMNS = (
    "attempts",
    "next_at",
    "last_attempt_at",
    "delivered_at",
    "gave_up_at",
    "last_error",
)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row["notification_id"],
        row["sink"],
        int(row["attempts"]),
        row["next_at"],
        row["last_attempt_at"],
        row["delivered_at"],
        row["gave_up_at"],
        row["last_error"],
    )


class OutboxStore(StoreBase):
    """``notifications`` and ``notification_deliveries``, as the sender sees them."""

    async def due_notifications(
        self, now: datetime, limit: int, *, since: datetime | None = None
    ) -> list[Notification]:
        """Up to ``limit`` unsettled notifications with a delivery due by ``now``, the most
        overdue first, each with its deliveries so far (``since``: created from then on)."""
        n, d = tables.notifications, tables.deliveries
        stmt = select(n).where(n.c.next_at <= now)
        if since is not None:
            stmt = stmt.where(n.c.created_at >= since)
        stmt = stmt.order_by(n.c.next_at, n.c.created_at).limit(limit)
        async with self.transaction("due notifications") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            ids = [r["id"] for r in rows]
            found: dict[str, dict[str, Delivery]] = {i: {} for i in ids}
            if ids:
                sent = await conn.execute(select(d).where(d.c.notification_id.in_(ids)))
                for row in sent.mappings().all():
                    found[row["notification_id"]][row["sink"]] = _delivery(row)
        return [
            Notification(
                r["id"],
                r["created_at"],
                r["action"],
                r["run_id"],
                r["body"],
                MappingProxyType(found[r["id"]]),
            )
            for r in rows
        ]

    async def record_deliveries(
        self,
        deliveries: Sequence[Delivery],
        next_due: Mapping[str, datetime | None],
        now: datetime,
    ) -> None:
        """Keep what each delivery attempt did, and each notification's next due time
        (None: every sink is done with it, so it is settled), in one transaction."""
        if not deliveries and not next_due:
            return
        d, n = tables.deliveries, tables.notifications
        rows = [
            {
                "notification_id": x.notification,
                "sink": x.sink,
                "attempts": x.attempts,
                "next_at": x.next_at,
                "last_attempt_at": x.last_attempt_at,
                "delivered_at": x.delivered_at,
                "gave_up_at": x.gave_up_at,
                "last_error": x.last_error,
            }
            for x in deliveries
        ]
        async with self.transaction("record deliveries") as conn:
            if rows:
                stmt = self._upsert(d, ["notification_id", "sink"], _DELIVERY_COLUMNS)
                await conn.execute(stmt, rows)
            for nid, when in next_due.items():
                values = (
                    {"next_at": when} if when is not None else {"next_at": None, "settled_at": now}
                )
                await conn.execute(update(n).where(n.c.id == nid).values(**values))

    async def outbox_backlog(self, *, since: datetime | None = None) -> tuple[int, datetime | None]:
        """How many notifications are not settled yet (made from ``since`` on, when given),
        and when the oldest was made."""
        n = tables.notifications
        stmt = select(func.count(), func.min(n.c.created_at)).where(n.c.next_at.is_not(None))
        if since is not None:
            stmt = stmt.where(n.c.created_at >= since)
        async with self.transaction("outbox backlog") as conn:
            count, oldest = (await conn.execute(stmt)).one()
        return int(count), oldest

    async def prune_notifications(self, older_than: datetime) -> int:
        """Delete settled notifications (and their deliveries) made before ``older_than``;
        count them. Unsettled ones are kept whatever their age."""
        n, d = tables.notifications, tables.deliveries
        old = and_(n.c.settled_at.is_not(None), n.c.created_at < older_than)
        async with self.transaction("prune notifications") as conn:
            ids = select(n.c.id).where(old).scalar_subquery()
            await conn.execute(delete(d).where(d.c.notification_id.in_(ids)))
            result = await conn.execute(delete(n).where(old))
        return int(result.rowcount)
