"""Read side of the standing conditions: what waits for a person, counted per master.

A standing condition row exists while its condition does (each pass makes the record what it
saw), so a count of rows is a count of what is there now: a suspected duplicate is counted
while its bot exists, stopped or not, and an adopt candidate while its follower is held.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from copytrader.store import readside as tables

#: ``status --json`` field -> the standing condition (note action) it counts.
COUNTED = {"suspected_duplicates": "duplicate_suspected", "adopt_candidates": "adopt_candidate"}


async def counts(conn: AsyncConnection) -> dict[str, dict[str, int]]:
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
