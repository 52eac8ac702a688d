"""Read side of what waits for a person, counted per master: the standing conditions, and
the clones a risk guard holds stopped.

A standing condition row exists while its condition does (each pass makes the record what it
saw), so a count of rows is a count of what is there now: a suspected duplicate is counted
while its bot exists, stopped or not, and an adopt candidate while its follower is held.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from copytrader.store import readside as tables
from copytrader.store.database import Conn

#: ``status --json`` field -> the standing condition (note action) it counts.
COUNTED = {"suspected_duplicates": "duplicate_suspected", "adopt_candidates": "adopt_candidate"}


async def counts(conn: Conn) -> dict[str, dict[str, int]]:
    """Per master, each :data:`COUNTED` field with its number of standing conditions (every
    field present, zeros included, for the masters that have any)."""
    t = tables.standing_conditions
    stmt = (
        select(t.c.master, t.c.action, func.count())
        .where(t.c.action.in_(list(COUNTED.values())))
        .group_by(t.c.master, t.c.action)
    )
    by_action = {action: field for field, action in COUNTED.items()}
    out: dict[str, dict[str, int]] = {}
    for master, action, n in (await conn.execute(stmt)).all():
        out.setdefault(master, dict.fromkeys(COUNTED, 0))[by_action[action]] = int(n)
    return out


def of(found: dict[str, dict[str, int]], master: str) -> dict[str, int]:
    """The :data:`COUNTED` fields of ``master`` (zeros when it has none)."""
    return found.get(master) or dict.fromkeys(COUNTED, 0)


async def risk_stops(conn: Conn) -> list[dict[str, Any]]:
    """Every clone held stopped by a risk guard: master, follower, the rule with its measured
    value and threshold, since when, and why in words (oldest hold first)."""
    t = tables.risk_states
    stmt = select(t).where(t.c.hold_mode == tables.HOLD_STOP).order_by(t.c.hold_since)
    rows = (await conn.execute(stmt)).mappings().all()
    if not rows:
        return []
    from copytrader.store.risk_rows import state_of  # the core's risk values, when needed

    out = []
    for row in rows:
        state = state_of(row)
        hold = state.hold
        assert hold is not None
        out.append(
            {
                "master": state.master,
                "follower": state.follower,
                "rule": hold.rule,
                "value": hold.value,
                "threshold": hold.threshold,
                "since": hold.since.isoformat().replace("+00:00", "Z"),
                "detail": hold.describe(),
            }
        )
    return out
