"""What the masters overview and a master's page show, as JSON-ready dicts: the same
documents feed the templates and the JSON API.

The counts are ``copytrader status``'s own (:func:`copytrader.store.queries.status`), so a
count added there (held items, risk stops...) shows here as a column with no second
implementation: every field of a status entry that is not one of :data:`SHOWN` and holds a
whole number becomes a column.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from copytrader.store import clones, queries, series, states
from copytrader.store.repo import SqlStore
from copytrader.web import params

#: Status fields with a column of their own, in the order the overview shows them.
SHOWN = ("master", "master_status", "master_roi", "follower_roi_mean", "followers", "clones",
         "in_sync", "drifted", "failed", "paused")


def count_columns(entries: list[dict[str, Any]]) -> list[str]:
    """The extra count fields of the status entries (see the module docstring), in order."""
    out: list[str] = []
    for entry in entries:
        for key, value in entry.items():
            if key in SHOWN or key in out:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                out.append(key)
    return out


def label(key: str) -> str:
    """A status field as a column heading: ``suspected_duplicates`` -> ``suspected duplicates``."""
    return key.replace("_", " ")


async def last_pass(store: SqlStore) -> dict[str, Any] | None:
    """The newest finished pass (``run_id, state, finished_at, actions_ok, actions_failed``)
    and whether one is running now."""
    runs = await store.runs(limit=5)
    done = next((r for r in runs if r.finished_at is not None), None)
    if done is None or done.finished_at is None:
        return None
    return {
        "run_id": done.run_id,
        "state": done.state,
        "finished_at": queries.iso(done.finished_at),
        "actions_ok": done.actions_ok,
        "actions_failed": done.actions_failed,
        "running": bool(runs) and runs[0].state == "running",
    }


async def overview(store: SqlStore) -> dict[str, Any]:
    """Every master with ``status``'s counts and a display name, and the last pass."""
    doc = await queries.status(store)
    names = await states.names(store)
    masters = [{**m, "name": names.get(m["master"], "")} for m in doc["masters"]]
    return {"masters": masters, "counts": count_columns(doc["masters"]),
            "risk_stops": doc.get("risk_stops", []), "last_pass": await last_pass(store)}


def clone_row(row: dict[str, Any]) -> dict[str, Any]:
    last = row.get("last_write")
    return {**row, "last_write": queries.iso(last) if isinstance(last, datetime) else None}


async def detail(store: SqlStore, master: str, view: params.TableView) -> dict[str, Any] | None:
    """A master's counts and one page of its clones (None: no pass ever recorded it)."""
    doc = await queries.status(store, only=master)
    entry = doc["masters"][0] if doc["masters"] else None
    found = await clones.page(store, master, sort=view.sort, descending=view.descending,
                              offset=view.offset, limit=view.per)
    if entry is None or found is None:
        return None
    names = await states.names(store)
    held = doc.get("risk_stops", [])
    stopped = {h["follower"] for h in held}
    for row in found.rows:
        row["risk_stopped"] = row["follower"] in stopped
    return {
        "master": master,
        "name": names.get(master, ""),
        "status": entry,
        "counts": count_columns([entry]),
        "risk_stops": held,
        "pass": {"run_id": found.head.run_id, "ts": queries.iso(found.head.ts)},
        "clones": {
            "total": found.total,
            "offset": found.offset,
            "limit": found.limit,
            "pages": max(1, math.ceil(found.total / view.per)),
            "items": [clone_row(r) for r in found.rows],
        },
        "last_pass": await last_pass(store),
    }


async def roi_series(
    store: SqlStore, master: str, followers: list[str], range_key: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The chart's data: ``t`` (Unix seconds), the master's ROI and each follower's, over
    the range ``range_key`` (see :data:`copytrader.web.params.RANGES`)."""
    end = now or datetime.now(UTC)
    found = await series.roi(store, master, followers, end - params.RANGES[range_key], end)
    return {
        "master": master,
        "range": range_key,
        "t": [ts.timestamp() for ts in found.ts],
        "master_roi": found.master,
        "followers": [{"follower": f, "roi": found.followers.get(f, [])} for f in followers],
    }
