"""The audit trail's read side shared by ``copytrader audit`` and the dashboard: the filters,
the row shape, and pages newest first (keyset pagination on ``(ts, id)``, so a page deep in a
long trail costs what the first one does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, text
from sqlalchemy.engine import RowMapping

from copytrader.store import readside as tables
from copytrader.store.database import Reader

# Loose index scan over (action, ts): the distinct actions without reading every event.
_ACTIONS_SQL = text("""
WITH RECURSIVE a(action) AS (
    SELECT MIN(action) FROM audit_events
    UNION ALL
    SELECT (SELECT MIN(e.action) FROM audit_events e WHERE e.action > a.action)
    FROM a WHERE a.action IS NOT NULL
)
SELECT action FROM a WHERE action IS NOT NULL
""")


@dataclass(frozen=True)
class Filters:
    """The filters of ``copytrader audit``: every one given must match; times inclusive."""

    master: str | None = None
    follower: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def iso(ts: datetime) -> str:
    """``ts`` as ISO 8601 UTC with a ``Z``."""
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def where(stmt: Select[Any], f: Filters) -> Select[Any]:
    """``stmt`` (over ``audit_events``) narrowed by ``f``."""
    t = tables.audit_events
    if f.master is not None:
        stmt = stmt.where(t.c.master == f.master)
    if f.follower is not None:
        stmt = stmt.where(t.c.follower == f.follower)
    if f.action is not None:
        stmt = stmt.where(t.c.action == f.action)
    if f.since is not None:
        stmt = stmt.where(t.c.ts >= f.since)
    if f.until is not None:
        stmt = stmt.where(t.c.ts <= f.until)
    return stmt


def as_dict(r: RowMapping) -> dict[str, Any]:
    """An audit row as the contract's ``audit --json`` object plus the provenance fields
    (policy_file, policy_sha256, layers, detail)."""
    return {
        "ts": iso(r["ts"]),
        "run_id": r["run_id"],
        "action": r["action"],
        "master": r["master"],
        "follower": r["follower"],
        "bot": r["bot"],
        "changes": {k: list(v) for k, v in (r["changes"] or {}).items()},
        "outcome": r["outcome"],
        "error": r["error"],
        "policy_file": r["policy_file"],
        "policy_sha256": r["policy_sha256"],
        "layers": dict(r["layers"] or {}),
        "detail": r["detail"],
    }


@dataclass(frozen=True)
class Page:
    """Events newest first; ``next`` is the cursor of the following (older) page, or None."""

    rows: list[dict[str, Any]]
    next: str | None


def cursor(ts: datetime, ident: int) -> str:
    """The opaque position after the event at ``(ts, ident)``."""
    return f"{ts.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}~{ident}"


def parse_cursor(raw: str) -> tuple[datetime, int]:
    """The position :func:`cursor` made; ValueError for anything else."""
    stamp, sep, ident = raw.partition("~")
    if not sep:
        raise ValueError(f"invalid cursor {raw!r}")
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC), int(ident)
    except ValueError:
        raise ValueError(f"invalid cursor {raw!r}") from None


async def page(
    store: Reader, f: Filters, *, limit: int = 100, before: str | None = None
) -> Page:
    """Up to ``limit`` events matching ``f``, newest first, older than ``before`` (a cursor
    from an earlier page; ValueError when it is not one)."""
    t = tables.audit_events
    stmt = where(select(t), f)
    if before is not None:
        ts, ident = parse_cursor(before)
        stmt = stmt.where(or_(t.c.ts < ts, and_(t.c.ts == ts, t.c.id < ident)))
    stmt = stmt.order_by(t.c.ts.desc(), t.c.id.desc()).limit(limit + 1)
    async with store.transaction("audit page") as conn:
        found = (await conn.execute(stmt)).mappings().all()
    more = len(found) > limit
    found = found[:limit]
    nxt = cursor(found[-1]["ts"], found[-1]["id"]) if more and found else None
    return Page([as_dict(r) for r in found], nxt)


async def actions(store: Reader) -> list[str]:
    """Every action name the trail holds, sorted."""
    async with store.transaction("audit actions") as conn:
        return [row[0] for row in (await conn.execute(_ACTIONS_SQL)).all()]
