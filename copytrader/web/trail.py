"""What the audit page shows: events newest first under ``copytrader audit``'s filters, a
page at a time, with the action names and masters the filter form offers."""

from __future__ import annotations

from typing import Any

from copytrader.store import auditlog, queries, states
from copytrader.store.repo import SqlStore


async def detail(store: SqlStore, filters: auditlog.Filters, *, limit: int,
                 before: str | None) -> dict[str, Any]:
    """One page of events and the filter form's choices."""
    found = await auditlog.page(store, filters, limit=limit, before=before)
    names = await states.names(store)
    return {
        "filters": {
            "master": filters.master,
            "follower": filters.follower,
            "action": filters.action,
            "since": queries.iso(filters.since) if filters.since else None,
            "until": queries.iso(filters.until) if filters.until else None,
        },
        "items": found.rows,
        "next": found.next,
        "limit": limit,
        "actions": await auditlog.actions(store),
        "masters": [{"master": m, "name": names.get(m, "")}
                    for m in sorted(set(names) | set(await queries.masters(store)))],
    }
