"""The risk guards' part of the store: each link's :class:`~copytrader.core.records.RiskState`
(the ``risk_states`` table), written with its audit events in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select

from copytrader.core.policy import OnBreach
from copytrader.core.records import AuditEvent, RiskState
from copytrader.store import tables
from copytrader.store.base import StoreBase
from copytrader.store.risk_rows import state_of, state_row

__all__ = ["RiskStore", "state_of", "state_row"]

_COLUMNS = (
    "track_bot",
    "track_since",
    "clone_base",
    "master_base",
    "peak",
    "hold_rule",
    "hold_value",
    "hold_threshold",
    "hold_since",
    "hold_rules",
    "hold_mode",
    "updated_at",
)


class RiskStore(StoreBase):
    """``risk_states``: read for each pass's plan, written before the plan's writes."""

    async def risk_states(self) -> list[RiskState]:
        """Every link's risk state on record, by master and follower."""
        t = tables.risk_states
        async with self.transaction("risk_states") as conn:
            rows = (await conn.execute(select(t).order_by(t.c.master, t.c.follower))).mappings()
            return [state_of(r) for r in rows.all()]

    async def risk_holds(self) -> list[RiskState]:
        """The links whose clone a risk guard holds stopped, by master and follower."""
        t = tables.risk_states
        stmt = select(t).where(t.c.hold_mode == OnBreach.STOP.value)
        async with self.transaction("risk_holds") as conn:
            rows = (await conn.execute(stmt.order_by(t.c.master, t.c.follower))).mappings()
            return [state_of(r) for r in rows.all()]

    async def save_risk(
        self, states: Sequence[RiskState], events: Sequence[AuditEvent] = ()
    ) -> None:
        """Make each link's risk state ``states`` (an empty one is deleted), writing
        ``events`` (with their notifications) in the same transaction."""
        now = datetime.now(UTC)
        t = tables.risk_states
        keep = [state_row(s, now) for s in states if not s.empty]
        gone = [(s.master, s.follower) for s in states if s.empty]
        async with self.transaction("save_risk") as conn:
            if keep:
                stmt = self._upsert(t, ["master", "follower"], _COLUMNS)
                await conn.execute(stmt, keep)
            for master, follower in gone:
                await conn.execute(delete(t).where(t.c.master == master, t.c.follower == follower))
            await self._write_events(conn, events)

    async def resume_risk(self, master: str, follower: str, event: AuditEvent) -> RiskState | None:
        """Lift ``follower``'s stop hold for ``master`` (and forget its measures: they start
        again when the clone does), writing ``event`` with it. Returns the state lifted, or
        None when there was no stop hold (nothing is written then)."""
        t = tables.risk_states
        where = (t.c.master == master, t.c.follower == follower)
        async with self.transaction("resume_risk") as conn:
            row = (await conn.execute(select(t).where(*where))).mappings().first()
            if row is None or row["hold_mode"] != OnBreach.STOP.value:
                return None
            await conn.execute(delete(t).where(*where))
            await self._write_events(conn, [event])
        return state_of(row)
