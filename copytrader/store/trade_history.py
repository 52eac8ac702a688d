"""Realized ROI and tracking error from the recorded trades, for ``history``.

Read-side (:class:`~copytrader.store.database.Reader`, the light
:mod:`copytrader.store.readside` tables): a database-only command loads no table model. The
trades of a history's masters are read in pages in ``(master, closed_at)`` order (keyset
pagination on the ``ix_trades_master_closed_at`` index), each page fed to the running sums
of :class:`copytrader.core.realized.Series`: a long history is never held in memory whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, tuple_

from copytrader.core.realized import NOTHING, Realized, Series, TradePoint
from copytrader.store import readside
from copytrader.store.database import Reader

#: Trades read per round trip.
PAGE = 5_000


async def add_realized(
    store: Reader,
    rows: Sequence[dict[str, Any]],
    *,
    follower: str | None,
    since: datetime | None,
) -> None:
    """Add ``master_trade_roi``, ``follower_trade_roi`` and ``trade_tracking_error`` to
    history rows (``{"_ts", "master", "clones", ...}``, oldest first): the realized ROI from
    recorded trades, one series per master. Per master the followers counted are those whose
    clones closed a trade; with ``follower`` the rows are that follower's, and its series
    starts at ``since`` or else at its first row where the clone exists."""
    for row, value in zip(rows, await realized(store, rows, follower=follower, since=since),
                          strict=True):
        row.update(master_trade_roi=value.master, follower_trade_roi=value.follower,
                   trade_tracking_error=value.tracking_error)


def _series(rows: Sequence[Mapping[str, Any]], follower: str | None, since: datetime | None,
            groups: dict[str, list[int]]) -> dict[str, Series]:
    for index, row in enumerate(rows):
        groups.setdefault(str(row["master"]), []).append(index)
    series: dict[str, Series] = {}
    for master, indexes in groups.items():
        start = since
        if follower is not None and start is None:
            existing = [rows[i]["_ts"] for i in indexes if rows[i]["clones"]]
            if not existing:
                continue  # the clone never existed in these rows: nothing to compare
            start = existing[0]
        times = [rows[i]["_ts"] for i in indexes]
        series[master] = Series(times, start, (follower,) if follower is not None else None)
    return series


async def realized(
    store: Reader,
    rows: Sequence[Mapping[str, Any]],
    *,
    follower: str | None,
    since: datetime | None,
) -> list[Realized]:
    """The realized ROI at each history row (see :func:`add_realized`)."""
    out: list[Realized] = [NOTHING] * len(rows)
    groups: dict[str, list[int]] = {}
    series = _series(rows, follower, since, groups)
    begins = [s.begin for s in series.values() if s.begin is not None]
    if not begins:
        return out
    t = readside.trades
    stmt = select(t.c.master, t.c.closed_at, t.c.bot_id, t.c.trade_id, t.c.follower,
                  t.c.profit_pct).where(
        t.c.master.in_(sorted(series)),
        t.c.closed_at >= min(begins),
        t.c.closed_at <= max(row["_ts"] for row in rows),
    )
    if follower is not None:
        stmt = stmt.where(or_(t.c.follower.is_(None), t.c.follower == follower))
    order = (t.c.master, t.c.closed_at, t.c.bot_id, t.c.trade_id)
    after: tuple[Any, ...] | None = None
    while True:
        page_stmt = stmt if after is None else stmt.where(and_(tuple_(*order) > tuple_(*after)))
        async with store.transaction("trade history") as conn:
            page = (await conn.execute(page_stmt.order_by(*order).limit(PAGE))).all()
        for master, closed_at, _bot, _trade, who, pct in page:
            series[master].feed((TradePoint(closed_at, who, float(pct)),))
        if len(page) < PAGE:
            break
        last = page[-1]
        after = (last[0], last[1], last[2], last[3])
    for master, s in series.items():
        for i, value in zip(groups[master], s.finish(), strict=True):
            out[i] = value
    return out
