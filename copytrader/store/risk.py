"""The risk guards' part of the store: each link's :class:`~copytrader.core.records.RiskState`
(the ``risk_states`` table), written with its audit events in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from copytrader.core.policy import OnBreach
from copytrader.core.records import AuditEvent, Hold, RiskState
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
        self,
        states: Sequence[RiskState],
        events: Sequence[AuditEvent] = (),
        *,
        expected: Mapping[tuple[str, str], RiskState | None] | None = None,
    ) -> frozenset[tuple[str, str]]:
        """Make each link's risk state ``states`` (an empty one is deleted), writing
        ``events`` (with their notifications) in the same transaction.

        ``expected``: compare-and-set. Each link's state is written only while its row is
        still what the caller read (``expected[(master, follower)]``, None: no row), checked
        in the same transaction with the rows locked (SQLite: ``BEGIN IMMEDIATE``;
        PostgreSQL: ``FOR UPDATE``), so a ``copytrader resume`` that ran since the read is
        never undone. The links whose row changed are returned and nothing of them is
        written, their events (by master and follower) included.
        """
        now = datetime.now(UTC)
        t = tables.risk_states
        async with self.transaction("save_risk", immediate=expected is not None) as conn:
            stale: frozenset[tuple[str, str]] = frozenset()
            if expected is not None:
                keys = [(s.master, s.follower) for s in states]
                found = await _locked(conn, {m for m, _ in keys})
                stale = frozenset(k for k in keys if found.get(k) != expected.get(k))
            fresh = [s for s in states if (s.master, s.follower) not in stale]
            keep = [state_row(s, now) for s in fresh if not s.empty]
            if keep:
                stmt = self._upsert(t, ["master", "follower"], _COLUMNS)
                await conn.execute(stmt, keep)
            for s in fresh:
                if s.empty:
                    where = (t.c.master == s.master, t.c.follower == s.follower)
                    await conn.execute(delete(t).where(*where))
            await self._write_events(
                conn, [e for e in events if (e.master, e.follower) not in stale]
            )
        return stale

    async def resume_risk(
        self, master: str, follower: str, event: AuditEvent, hold: Hold | None = None
    ) -> RiskState | None:
        """Lift ``follower``'s stop hold for ``master`` (and forget its measures: they start
        again when the clone does), writing ``event`` with it. With ``hold``, only while the
        hold on record is still that one (the one ``event`` describes): a pass that replaced
        it by a new breach meanwhile keeps its new hold. Read and delete are one locked
        transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``FOR UPDATE``). Returns the
        state lifted, or None when there was no such hold (nothing is written then)."""
        t = tables.risk_states
        where = (t.c.master == master, t.c.follower == follower)
        async with self.transaction("resume_risk", immediate=True) as conn:
            found = await conn.execute(select(t).where(*where).with_for_update())
            row = found.mappings().first()
            if row is None or row["hold_mode"] != OnBreach.STOP.value:
                return None
            state = state_of(row)
            if hold is not None and state.hold != hold:
                return None
            await conn.execute(delete(t).where(*where))
            await self._write_events(conn, [event])
        return state


async def _locked(conn: AsyncConnection, masters: set[str]) -> dict[tuple[str, str], RiskState]:
    """The risk states of ``masters``' links, locked until the transaction ends (FOR UPDATE
    on PostgreSQL; on SQLite the caller's ``BEGIN IMMEDIATE`` holds the database)."""
    t = tables.risk_states
    stmt = select(t).where(t.c.master.in_(sorted(masters))).with_for_update()
    states = [state_of(row) for row in (await conn.execute(stmt)).mappings().all()]
    return {(s.master, s.follower): s for s in states}
