"""Which masters the store has seen: every master of a policy is snapshotted in each pass."""

from __future__ import annotations

from sqlalchemy import text

#: The distinct masters of the snapshots by a loose index scan: O(masters x log rows) on the
#: (master, ts) index, not a scan of every snapshot kept.
DISTINCT_SQL = text("""
WITH RECURSIVE m(master) AS (
    SELECT MIN(master) FROM snapshots
    UNION ALL
    SELECT (SELECT MIN(s.master) FROM snapshots s WHERE s.master > m.master)
    FROM m WHERE m.master IS NOT NULL
)
SELECT master FROM m WHERE master IS NOT NULL
""")
