"""Small read-side look-ups for the command line: the ids that start with a prefix (so a
table's short id works as a filter), the audit actions on record, and which pass a
``status`` comes from. Each is one cheap query on an index, fast on a year of data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from copytrader.store import readside as tables
from copytrader.store.database import Conn, Reader

#: (table, column) pairs an id may be looked up in; each column leads an index.
COLUMNS = {
    ("audit_events", "master"),
    ("audit_events", "follower"),
    ("audit_events", "action"),
    ("snapshots", "master"),
    ("snapshots", "follower"),
}


def _distinct_sql(table: str, column: str) -> Any:
    # A loose index scan between two bounds: one index probe per distinct value found, not
    # a scan of every row (a year of audit events is millions of rows).
    return text(f"""
WITH RECURSIVE d(v, n) AS (
    SELECT MIN({column}), 1 FROM {table} WHERE {column} >= :lo AND {column} < :hi
    UNION ALL
    SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > d.v AND {column} < :hi), d.n + 1
    FROM d WHERE d.v IS NOT NULL AND d.n < :most
)
SELECT v FROM d WHERE v IS NOT NULL
""")  # noqa: S608 - table and column come from COLUMNS, never from input


def _upper(prefix: str) -> str:
    """The smallest string above every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


async def starting_with(
    store: Reader, table: str, column: str, prefix: str, most: int = 11
) -> list[str]:
    """The distinct values of ``table.column`` that start with ``prefix`` (at most ``most``,
    sorted; ``prefix`` itself first when it is one)."""
    if (table, column) not in COLUMNS:
        raise ValueError(f"no look-up on {table}.{column}")
    if not prefix:
        return []
    params = {"lo": prefix, "hi": _upper(prefix), "most": most}
    async with store.transaction(f"{column} look-up") as conn:
        rows = (await conn.execute(_distinct_sql(table, column), params)).all()
    return sorted({r[0] for r in rows if isinstance(r[0], str) and r[0].startswith(prefix)})


async def actions(store: Reader) -> list[str]:
    """Every audit action on record (one index probe per action)."""
    params = {"lo": "", "hi": "\U0010ffff", "most": 1000}
    async with store.transaction("audit actions") as conn:
        rows = (await conn.execute(_distinct_sql("audit_events", "action"), params)).all()
    return sorted({r[0] for r in rows if r[0]})


async def as_of(conn: Conn, heads: dict[str, tuple[str, datetime]]) -> Any:
    """Which pass a ``status`` comes from: the newest of the masters' latest passes
    (``run_id``, ``ts``, ``state``) and, as ``older``, the masters whose figures come from
    an earlier pass. None before the first pass."""
    if not heads:
        return None
    run_id, ts = max(heads.values(), key=lambda h: h[1])
    r = tables.runs
    state = (await conn.execute(select(r.c.state).where(r.c.run_id == run_id))).scalar()
    older = [
        {"master": m, "run_id": h[0], "ts": _iso(h[1])}
        for m, h in sorted(heads.items())
        if h[0] != run_id
    ]
    return {"run_id": run_id, "ts": _iso(ts), "state": state, "older": older}


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
