"""ROI over time for charts: a master's and some of its followers', sampled from the snapshots.

A chart needs a few hundred points, not every pass (a pass a minute is 129,600 passes in 90
days). The window between the first and the last pass in the range is cut into ``points``
equal slices and each slice contributes its last pass, found by one index probe on the
partial index over the master rows; the followers' rows of exactly those passes are then
probed on ``(follower, ts)``. So the cost is points x series index probes, however dense the
history and however many followers the master has, and every point is a stored value at the
time it was stored (no averaging). With fewer passes than slices every pass is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, String, func, select, text

from copytrader.store import tables
from copytrader.store.repo import SqlStore

POINTS = 480

# The slice edges, generated in SQL from a start (Unix seconds) and a step; SQLite keeps
# timestamps as UTC text that sorts as time does, so its edges are text of the same form.
_EDGE = {
    "sqlite": "strftime('%Y-%m-%d %H:%M:%f', :t0 + ({i}) * :step, 'unixepoch')",
    "postgresql": "to_timestamp(CAST(:t0 AS double precision) + ({i}) * "
                  "CAST(:step AS double precision))",
}
_SAMPLE = """
WITH RECURSIVE e(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM e WHERE i < :n)
SELECT s.ts AS ts, s.roi AS roi, s.run_id AS run_id FROM e JOIN snapshots s ON s.id = (
    SELECT x.id FROM snapshots x
    WHERE x.master = :master AND x.follower IS NULL AND x.ts > {lo} AND x.ts <= {hi}
    ORDER BY x.ts DESC LIMIT 1)
ORDER BY s.ts
"""


@dataclass(frozen=True)
class Series:
    """Aligned series: ``ts[k]`` is the time of point k of the master and of every follower
    (None where a follower had no clone, or no row, in that pass)."""

    ts: list[datetime] = field(default_factory=list)
    master: list[float | None] = field(default_factory=list)
    followers: dict[str, list[float | None]] = field(default_factory=dict)


def _sample_sql(dialect: str) -> str:
    edge = _EDGE["postgresql" if dialect == "postgresql" else "sqlite"]
    return _SAMPLE.format(lo=edge.format(i="e.i - 1"), hi=edge.format(i="e.i"))


async def roi(
    store: SqlStore,
    master: str,
    followers: Sequence[str],
    since: datetime,
    until: datetime,
    points: int = POINTS,
) -> Series:
    """The master's ROI and each of ``followers``' clone ROI between ``since`` and ``until``,
    at most ``points`` passes, oldest first."""
    t = tables.snapshots
    rows = (t.c.master == master, t.c.follower.is_(None), t.c.ts >= since, t.c.ts <= until)
    async with store.transaction("roi series") as conn:
        first, last = (await conn.execute(select(func.min(t.c.ts), func.max(t.c.ts))
                                          .where(*rows))).one()
        if first is None or last is None:
            return Series(followers={f: [] for f in followers})
        # Edges are exclusive below: start a millisecond early, end a millisecond late.
        t0 = first.timestamp() - 0.001
        step = (last.timestamp() + 0.001 - t0) / max(points, 1)
        sample = text(_sample_sql(store.dialect)).columns(ts=tables.UTCDateTime(), roi=Float(),
                                                          run_id=String())
        found = (await conn.execute(sample, {"n": max(points, 1), "t0": t0, "step": step,
                                             "master": master})).all()
        times = [r[0] for r in found]
        wanted: dict[str, list[float | None]] = {f: [None] * len(times) for f in followers}
        if times and followers:
            at = {r[2]: k for k, r in enumerate(found)}  # by run: no time parsed per row
            # on (follower, ts): one probe per follower and point
            stmt = select(t.c.follower, t.c.run_id, t.c.roi, t.c.bot_id).where(
                t.c.follower.in_(list(followers)), t.c.ts.in_(times),
                tables.unindexed(t.c.master) == master,
            )
            for follower, run_id, value, bot in (await conn.execute(stmt)).all():
                k = at.get(run_id)
                if k is not None and bot is not None:
                    wanted[follower][k] = value
    return Series(ts=times, master=[r[1] for r in found], followers=wanted)
