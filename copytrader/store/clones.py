"""A master's clones as its latest pass saw them: sorted, counted and paginated (the
dashboard's master page and ``/api/masters/{id}/clones``).

Only the rows of one pass are read (the ``(run_id, master)`` index), so a page costs the same
with a day or a year of history; the latest pass is found through the partial index over the
master rows. ``last_write`` is the time of the clone's latest successful platform write, from
the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, null, select

from copytrader.core.actions import WRITES
from copytrader.store import tables
from copytrader.store.repo import SqlStore

#: What a page may be sorted by (the ``sort`` parameter), in the order the table shows them.
SORTS = ("follower", "status", "roi", "gap", "in_sync", "last_write")
WRITE_ACTIONS = sorted(k.value for k in WRITES)


@dataclass(frozen=True)
class Head:
    """A master's latest pass: its run, time, the master's status and ROI, followers listed."""

    run_id: str
    ts: datetime
    status: str | None
    roi: float | None
    followers: int


@dataclass(frozen=True)
class ClonePage:
    """One page of a master's clones; ``total`` counts every listed follower of the pass."""

    head: Head
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]] = field(default_factory=list)


async def head(store: SqlStore, master: str) -> Head | None:
    """The latest pass of ``master`` (None when no pass recorded it)."""
    t = tables.snapshots
    async with store.transaction("master head") as conn:
        found = (
            await conn.execute(
                select(t.c.run_id, t.c.ts, t.c.status, t.c.roi, t.c.followers)
                .where(t.c.master == master, t.c.follower.is_(None))
                .order_by(t.c.ts.desc())
                .limit(1)
            )
        ).first()
        if found is not None:
            return Head(found[0], found[1], found[2], found[3], int(found[4] or 0))
        # A pass that saw only clones of it (the master bot was missing): its newest rows.
        newest = (
            await conn.execute(
                select(t.c.run_id, t.c.ts).where(t.c.master == master)
                .order_by(t.c.ts.desc()).limit(1)
            )
        ).first()
    return None if newest is None else Head(newest[0], newest[1], None, None, 0)


def _ok_writes(master: Any) -> list[ColumnElement[bool]]:
    """Successful platform writes to a clone of ``master``: read on ``(follower, ts)``,
    these terms only filter (see ``tables.unindexed``)."""
    a = tables.audit_events
    return [tables.unindexed(a.c.master) == master,
            tables.unindexed(a.c.action).in_(WRITE_ACTIONS),
            tables.unindexed(a.c.outcome) == "ok"]


def _last_write(master: Any, follower: Any) -> Any:
    a = tables.audit_events
    return (
        select(a.c.ts)
        .where(a.c.follower == follower, *_ok_writes(master))
        .order_by(a.c.ts.desc())
        .limit(1)
        .scalar_subquery()
    )


def _order(key: str, descending: bool, gap: ColumnElement[Any]) -> list[Any]:
    t = tables.snapshots
    column: Any = {
        "follower": t.c.follower,
        "status": t.c.status,
        "roi": t.c.roi,
        "gap": gap,
        "in_sync": t.c.in_sync,
        "last_write": _last_write(t.c.master, t.c.follower),
    }[key]
    # Empty values last in either direction; ties by follower, so pages never overlap.
    ordered = column.desc() if descending else column.asc()
    return [ordered.nulls_last(), t.c.follower]


async def page(
    store: SqlStore,
    master: str,
    *,
    sort: str = "follower",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ClonePage | None:
    """Rows ``offset`` to ``offset + limit`` of ``master``'s clones in its latest pass, by
    ``sort`` (one of :data:`SORTS`; ValueError otherwise). Each row: follower, bot_id,
    status, roi, gap (follower ROI minus the master's, points), in_sync, drifted, failed,
    paused, last_write. None when no pass recorded the master."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: expected one of {', '.join(SORTS)}")
    h = await head(store, master)
    if h is None:
        return None
    t = tables.snapshots
    gap = (t.c.roi - h.roi) if h.roi is not None else cast(null(), Float)
    mine = and_(t.c.run_id == h.run_id, t.c.master == master, t.c.follower.is_not(None))
    stmt = (
        select(t.c.follower, t.c.bot_id, t.c.status, t.c.roi, gap.label("gap"), t.c.in_sync,
               t.c.drifted, t.c.failed, t.c.paused)
        .where(mine)
        .order_by(*_order(sort, descending, gap))
        .offset(offset)
        .limit(limit)
    )
    async with store.transaction("clone page") as conn:
        total = int((await conn.execute(select(func.count()).where(mine))).scalar_one())
        rows = [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
        writes = await _writes(conn, master, [r["follower"] for r in rows])
    for row in rows:
        exists = row["bot_id"] is not None and row["status"] is not None
        row["in_sync"] = bool(row["in_sync"]) and exists
        for flag in ("drifted", "failed", "paused"):
            row[flag] = bool(row[flag])
        row["last_write"] = writes.get(row["follower"])
    return ClonePage(h, total, offset, limit, rows)


async def _writes(conn: Any, master: str, followers: list[str]) -> dict[str, datetime]:
    """The latest successful platform write to each follower's clone of ``master``."""
    if not followers:
        return {}
    a = tables.audit_events
    stmt = (
        select(a.c.follower, func.max(a.c.ts))
        .where(a.c.follower.in_(followers), *_ok_writes(master))
        .group_by(a.c.follower)
    )
    return {row[0]: row[1] for row in (await conn.execute(stmt)).all()}


@dataclass(frozen=True)
class Clone:
    """One follower's clone of a master as the database knows it: the link copytrader keeps
    (``applied`` is the settings it last wrote or adopted, as the platform sent them) and the
    clone's row in the latest pass that listed the follower."""

    master: str
    follower: str
    bot_id: str | None
    applied: dict[str, Any]
    link_updated: datetime | None
    snapshot: dict[str, Any] | None


async def clone(store: SqlStore, master: str, follower: str) -> Clone | None:
    """What the database holds about ``follower``'s clone of ``master`` (None: nothing)."""
    lk, t = tables.links, tables.snapshots
    async with store.transaction("clone") as conn:
        link = (
            await conn.execute(
                select(lk.c.bot_id, lk.c.applied, lk.c.updated_at)
                .where(lk.c.master == master, lk.c.follower == follower)
            )
        ).first()
        snap = (
            await conn.execute(
                select(t.c.run_id, t.c.ts, t.c.bot_id, t.c.status, t.c.roi, t.c.in_sync,
                       t.c.drifted, t.c.failed, t.c.paused)
                .where(t.c.follower == follower, t.c.master == master)
                .order_by(t.c.ts.desc())
                .limit(1)
            )
        ).mappings().first()
    if link is None and snap is None:
        return None
    return Clone(
        master=master,
        follower=follower,
        bot_id=link[0] if link is not None else (snap["bot_id"] if snap else None),
        applied=dict(link[1] or {}) if link is not None else {},
        link_updated=link[2] if link is not None else None,
        snapshot=dict(snap) if snap is not None else None,
    )
