"""Read-side queries behind ``status``, ``audit`` and ``history``, as plain JSON-ready dicts.

The shapes are those of the outside contract (``status --json``, ``audit --json``); times
are ISO 8601 UTC strings ending in ``Z``. Queries are written to ride the indexes declared
in :mod:`copytrader.store.tables` so they stay fast on a year of data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from statistics import fmean
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, null, select

from copytrader.core import words
from copytrader.core.spans import parse_span, parse_time
from copytrader.store import auditlog, conditions, lookup, trade_history
from copytrader.store import readside as tables
from copytrader.store.database import Reader
from copytrader.store.masters import DISTINCT_SQL as _MASTERS_SQL

__all__ = [
    "audit",
    "history",
    "iso",
    "latest_clones",
    "masters",
    "parse_span",
    "parse_time",
    "status",
    "to_csv",
]

HISTORY_COLUMNS = (
    "ts",
    "master",
    "follower",
    "followers",
    "clones",
    "in_sync",
    "master_roi",
    "follower_roi",
    "tracking_error",
    "master_trade_roi",
    "follower_trade_roi",
    "trade_tracking_error",
)
#: Averaged over the passes of a bucket.
_AVERAGED = HISTORY_COLUMNS[3:]
_EXISTS = and_(tables.snapshots.c.bot_id.is_not(None), tables.snapshots.c.status.is_not(None))


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


#: A pass's clone rows of one master, counted: a clone exists when it has a bot and a status.
_CLONE_COUNTS = (
    _count(_EXISTS).label("clones"),
    _count(and_(_EXISTS, tables.snapshots.c.in_sync.is_(True))).label("in_sync"),
    _count(tables.snapshots.c.drifted.is_(True)).label("drifted"),
    _count(tables.snapshots.c.failed.is_(True)).label("failed"),
    _count(tables.snapshots.c.paused.is_(True)).label("paused"),
    func.avg(case((_EXISTS, tables.snapshots.c.roi))).label("roi_mean"),
    _count(and_(_EXISTS, tables.snapshots.c.carried.is_(True))).label("carried"),
)



iso = auditlog.iso


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


async def masters(store: Reader) -> list[str]:
    """Every master with a snapshot, sorted."""
    async with store.transaction("masters") as conn:
        return [row[0] for row in (await conn.execute(_MASTERS_SQL)).all()]


async def latest_clones(store: Reader) -> list[dict[str, Any]]:
    """The clone rows of the newest pass (every master is snapshotted in each pass), by
    master and follower: ``{master, follower, bot_id, status, roi, in_sync, paused, failed,
    drifted}``."""
    t = tables.snapshots
    newest = select(func.max(t.c.ts)).scalar_subquery()
    stmt = (
        select(
            t.c.master,
            t.c.follower,
            t.c.bot_id,
            t.c.status,
            t.c.roi,
            t.c.in_sync,
            t.c.paused,
            t.c.failed,
            t.c.drifted,
        )
        .where(t.c.ts == newest, t.c.follower.is_not(None))
        .order_by(t.c.master, t.c.follower)
    )
    async with store.transaction("latest clones") as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def status(store: Reader, only: str | None = None) -> dict[str, Any]:
    """``{"masters": [...], "risk_stops": [...], "as_of": {...}}``: each master's latest pass
    by master id; held items from the standing conditions; risk-stopped clones (each with
    why). ``as_of`` says which pass the figures come from (the newest one: ``run_id``,
    ``ts``, ``state``; None before the first pass) and lists as ``older`` the masters whose
    figures come from an earlier pass (a master no longer in any policy). With ``only``:
    that master's entry and risk stops alone (none when no pass recorded it)."""
    t, out = tables.snapshots, []
    heads: dict[str, tuple[str, datetime]] = {}
    async with store.transaction("status") as conn:
        masters = [row[0] for row in (await conn.execute(_MASTERS_SQL)).all()]
        if only is not None:
            masters = [m for m in masters if m == only]
        held = await conditions.counts(conn)
        stops = await conditions.risk_stops(conn)
        for master in masters:
            found = (
                await conn.execute(
                    select(t.c.run_id, t.c.status, t.c.roi, t.c.followers, t.c.ts)
                    .where(t.c.master == master, t.c.follower.is_(None))
                    .order_by(t.c.ts.desc())
                    .limit(1)
                )
            ).first()
            if found is None:  # clone rows only: use the newest pass that has any
                found = (
                    await conn.execute(
                        select(t.c.run_id, null(), null(), literal(0), t.c.ts)
                        .where(t.c.master == master)
                        .order_by(t.c.ts.desc())
                        .limit(1)
                    )
                ).one()
            head: tuple[str, str | None, float | None, int] = tuple(found)[:4]
            heads[master] = (found[0], found[4])
            # Counted in the database: a master of 10,000 followers is one row back, not
            # 10,000 (the dashboard asks for this on every page).
            counts = (
                await conn.execute(
                    select(*_CLONE_COUNTS).where(
                        t.c.run_id == head[0], t.c.master == master, t.c.follower.is_not(None)
                    )
                )
            ).one()
            out.append(
                {
                    "master": master,
                    "master_status": head[1],
                    "master_roi": head[2],
                    "followers": int(head[3] or 0),
                    "clones": int(counts.clones or 0),
                    "in_sync": int(counts.in_sync or 0),
                    "drifted": int(counts.drifted or 0),
                    "failed": int(counts.failed or 0),
                    "paused": int(counts.paused or 0),
                    "follower_roi_mean": (
                        None if counts.roi_mean is None else float(counts.roi_mean)
                    ),
                    **conditions.of(held, master),
                    "risk_stopped": sum(1 for s in stops if s["master"] == master),
                    "platform_carried": int(counts.carried or 0),
                }
            )
        as_of = await lookup.as_of(conn, heads)
    if only is not None:
        stops = [s for s in stops if s["master"] == only]
    return {"masters": out, "risk_stops": stops, "as_of": as_of}


async def audit(
    store: Reader,
    *,
    master: str | None = None,
    follower: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Audit events matching every filter given, oldest first.

    ``since``/``until`` are inclusive; with ``limit`` only the newest N are returned (still
    oldest first). Each row has the contract's fields plus policy_file, policy_sha256,
    layers and detail.
    """
    t = tables.audit_events
    stmt = auditlog.where(select(t), auditlog.Filters(master, follower, action, since, until))
    if limit is not None:
        stmt = stmt.order_by(t.c.ts.desc(), t.c.id.desc()).limit(limit)
    else:
        stmt = stmt.order_by(t.c.ts, t.c.id)
    async with store.transaction("audit") as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    result = [auditlog.as_dict(r) for r in rows]
    if limit is not None:
        result.reverse()
    return result


def _window(
    stmt: Select[Any], column: Any, since: datetime | None, until: datetime | None
) -> Select[Any]:
    if since is not None:
        stmt = stmt.where(column >= since)
    if until is not None:
        stmt = stmt.where(column <= until)
    return stmt


def _master_passes(
    master: str | None, since: datetime | None, until: datetime | None
) -> Select[Any]:
    t = tables.snapshots
    src: Any = t
    if since is not None:
        # A window: read it through the (master, ts) / (ts) index first. Left alone, SQLite
        # prefers skip-scanning the run index to avoid the GROUP BY sort, which reads every
        # pass ever kept (10x slower for a week out of a year).
        inner = select(
            t.c.run_id,
            t.c.ts,
            t.c.master,
            t.c.follower,
            t.c.bot_id,
            t.c.status,
            t.c.roi,
            t.c.followers,
            t.c.in_sync,
        )
        if master is not None:
            inner = inner.where(t.c.master == master)
        src = _window(inner, t.c.ts, since, until).cte("pass_window").prefix_with("MATERIALIZED")
    c = src.c
    is_master = c.follower.is_(None)
    is_clone = and_(c.follower.is_not(None), c.bot_id.is_not(None), c.status.is_not(None))
    stmt = (
        select(
            func.min(c.ts).label("ts"),
            c.master,
            func.max(case((is_master, c.followers))).label("followers"),
            func.max(case((is_master, c.roi))).label("master_roi"),
            func.sum(case((is_clone, 1), else_=0)).label("clones"),
            func.sum(case((and_(is_clone, c.in_sync.is_(True)), 1), else_=0)).label("in_sync"),
            func.avg(case((is_clone, c.roi))).label("follower_roi"),
        )
        .group_by(c.master, c.run_id)
        .order_by(func.min(c.ts), c.master)
    )
    if since is not None:
        return stmt
    if master is not None:
        stmt = stmt.where(t.c.master == master)
    return _window(stmt, t.c.ts, None, until)


def _follower_passes(
    master: str | None, follower: str, since: datetime | None, until: datetime | None
) -> Select[Any]:
    c = tables.snapshots.alias("c")
    m = tables.snapshots.alias("m")
    exists = and_(c.c.bot_id.is_not(None), c.c.status.is_not(None))
    stmt = (
        select(
            c.c.ts,
            c.c.master,
            c.c.follower,
            m.c.followers,
            case((exists, 1), else_=0).label("clones"),
            case((and_(exists, c.c.in_sync.is_(True)), 1), else_=0).label("in_sync"),
            m.c.roi.label("master_roi"),
            case((exists, c.c.roi)).label("follower_roi"),
        )
        .select_from(
            c.outerjoin(
                m, and_(m.c.run_id == c.c.run_id, m.c.master == c.c.master, m.c.follower.is_(None))
            )
        )
        .where(c.c.follower == follower)
        .order_by(c.c.ts, c.c.master)
    )
    if master is not None:
        stmt = stmt.where(c.c.master == master)
    return _window(stmt, c.c.ts, since, until)


def _bucketed(rows: list[dict[str, Any]], seconds: int) -> list[dict[str, Any]]:
    groups: dict[tuple[int, str, str | None], list[dict[str, Any]]] = {}
    for row in rows:
        start = int(row["_ts"].timestamp()) // seconds * seconds
        groups.setdefault((start, row["master"], row["follower"]), []).append(row)
    out = []
    for (start, master_, follower_), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        out.append(
            {
                "ts": iso(datetime.fromtimestamp(start, UTC)),
                "master": master_,
                "follower": follower_,
                **{c: _mean([r[c] for r in members]) for c in _AVERAGED},
            }
        )
    return out


async def history(
    store: Reader,
    *,
    master: str | None = None,
    follower: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: str | None = None,
) -> list[dict[str, Any]]:
    """ROI and sync over time, oldest first: one row per pass, or per ``bucket`` (``1h``...).

    With ``follower``: that follower's clone against its master (``master`` narrows it to
    one master). Otherwise per master: ``follower_roi`` is the mean over existing clones and
    ``follower`` is None. ``tracking_error`` is follower ROI minus master ROI; the ``*trade*``
    columns are the same from recorded trades (``trade_history``). A bucket
    averages its passes and is labelled by its start. ValueError for a bad bucket.
    """
    seconds = int(parse_span(bucket).total_seconds()) if bucket is not None else None
    stmt = (
        _follower_passes(master, follower, since, until)
        if follower is not None
        else _master_passes(master, since, until)
    )
    async with store.transaction("history") as conn:
        result = (await conn.execute(stmt)).mappings().all()
    rows: list[dict[str, Any]] = []
    for r in result:
        master_roi = None if r["master_roi"] is None else float(r["master_roi"])
        follower_roi = None if r["follower_roi"] is None else float(r["follower_roi"])
        rows.append(
            {
                "_ts": r["ts"],
                "ts": iso(r["ts"]),
                "master": r["master"],
                "follower": follower,
                "followers": None if r["followers"] is None else int(r["followers"]),
                "clones": int(r["clones"] or 0),
                "in_sync": int(r["in_sync"] or 0),
                "master_roi": master_roi,
                "follower_roi": follower_roi,
                "tracking_error": _diff(follower_roi, master_roi),
            }
        )
    await trade_history.add_realized(store, rows, follower=follower, since=since)
    if seconds is not None:
        return _bucketed(rows, seconds)
    for row in rows:
        del row["_ts"]
    return rows


def _csv_cell(value: Any) -> str:
    """A CSV cell: empty for None, numbers without float noise (``0.202975``)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return words.number(value)
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """History rows as CSV with a header (``HISTORY_COLUMNS``); None is an empty cell."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(col)) for col in HISTORY_COLUMNS])
    return buf.getvalue()
