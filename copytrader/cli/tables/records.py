"""The tables of the records commands: ``status`` (with the clones risk guards hold),
``audit`` and ``history``.

Each ``render_*`` takes the plain dicts the queries produce (the ``--json`` shapes) and
prints a :class:`~copytrader.cli.grid.Grid` fitted to the console (``wide``: full ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from copytrader.cli.grid import Cell, Column, Grid
from copytrader.cli.tables import cells
from copytrader.core import words

if TYPE_CHECKING:
    from rich.console import Console


def _attention(m: Mapping[str, Any]) -> Cell:
    """The counts that need a look, only those not zero: ``1 drifted, 2 adopt candidates``."""
    parts = []
    for key, word, many, style in (
        ("drifted", "drifted", "drifted", "red"),
        ("failed", "failed", "failed", "red"),
        ("paused", "paused", "paused", ""),
        ("suspected_duplicates", "suspected duplicate", None, "red"),
        ("adopt_candidates", "adopt candidate", None, "yellow"),
        ("risk_stopped", "risk stopped", "risk stopped", "red"),
    ):
        n = m.get(key) or 0
        if n:
            parts.append((words.plural(n, word, many), style))
    text = cells.text("")
    for i, (part, style) in enumerate(parts):
        text.append(part + ("," if i < len(parts) - 1 else ""), style=style)
        if i < len(parts) - 1:
            text.append(" ")
    return Cell(text)


def status_grid(doc: Mapping[str, Any], now: datetime | None = None) -> Grid:
    """One row per master of a ``status --json`` document, and when its figures are from."""
    grid = Grid(
        "copytrader status",
        [
            Column("master", "id"),
            Column("status"),
            Column("ROI", justify="right"),
            Column("followers", justify="right"),
            Column("clones", justify="right"),
            Column("platform-carried", justify="right", optional=True, drop=0),
            Column("in sync", justify="right"),
            Column("follower ROI", justify="right", optional=True, drop=1),
            Column("needs a look", "text"),
        ],
        caption=as_of_line(doc.get("as_of"), now),
    )
    for m in doc.get("masters", []):
        in_sync = cells.text(
            f"{m['in_sync']}/{m['followers']}",
            style="green" if m["in_sync"] == m["followers"] else "yellow",
        )
        grid.add_row(
            m["master"],
            cells.cell(m["master_status"]),
            cells.percent(m["master_roi"]),
            str(m["followers"]),
            str(m["clones"]),
            str(m.get("platform_carried", 0)),
            in_sync,
            cells.percent(m["follower_roi_mean"]),
            _attention(m),
        )
    return grid


def _ago(ts: datetime, now: datetime) -> str:
    seconds = max(int((now - ts).total_seconds()), 0)
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            return words.plural(seconds // size, unit) + " ago"
    return words.plural(seconds, "second") + " ago"


def as_of_line(as_of: Mapping[str, Any] | None, now: datetime | None = None) -> str:
    """``figures from pass 3f2a1b0c (ok) at 2026-12-04 12:00:03 UTC, 4 minutes ago``, and a
    line per master whose figures come from an older pass."""
    if not as_of:
        return ""
    now = now or datetime.now(UTC)
    ts = datetime.fromisoformat(str(as_of["ts"]).replace("Z", "+00:00"))
    state = f" ({as_of['state']})" if as_of.get("state") else ""
    lines = [
        f"figures from pass {as_of['run_id']}{state} at {cells.when(as_of['ts'])} UTC, "
        f"{_ago(ts, now)}"
    ]
    for old in as_of.get("older") or ():
        lines.append(
            f"{old['master']}: figures from an older pass, {old['run_id']} at "
            f"{cells.when(old['ts'])} UTC (no policy names it now)"
        )
    return "\n".join(lines)


def risk_stops_grid(stops: Sequence[Mapping[str, Any]]) -> Grid:
    """The clones risk guards hold stopped, each with why and the command that resumes it."""
    grid = Grid(
        "held by risk guards: stopped until copytrader resume MASTER FOLLOWER",
        [
            Column("master", "id"),
            Column("follower", "id"),
            Column("rule"),
            Column("value", justify="right"),
            Column("threshold", justify="right"),
            Column("since (UTC)", optional=True),
            Column("why", "text"),
        ],
    )
    for h in stops:
        grid.add_row(
            h["master"],
            h["follower"],
            str(h["rule"]),
            cells.cell(h["value"]),
            cells.cell(h["threshold"]),
            cells.when(h["since"]),
            cells.text(str(h["detail"])),
        )
    return grid


def render_status(
    console: Console, doc: Mapping[str, Any], *, wide: bool = False, now: datetime | None = None
) -> None:
    """Print the status table, then the risk-stopped clones (or a one-line note when
    nothing is recorded yet)."""
    if not doc.get("masters"):
        console.print("no masters recorded yet (run a reconcile pass first)")
        return
    status_grid(doc, now).render(console, wide=wide)
    if doc.get("risk_stops"):
        risk_stops_grid(doc["risk_stops"]).render(console, wide=wide)


# -- audit and history ---------------------------------------------------------------------


def audit_grid(rows: Sequence[Mapping[str, Any]]) -> Grid:
    """One row per audit event, in the order given (oldest first from the query)."""
    grid = Grid(
        "audit trail",
        [
            Column("time (UTC)"),
            Column("action"),
            Column("master", "id"),
            Column("follower", "id", optional=True, drop=2),
            Column("bot", "id", optional=True, drop=1),
            Column("outcome"),
            Column("changes", "text"),
        ],
    )
    for r in rows:
        failed = r["outcome"] in ("failed", "unknown")
        error = f"error: {r['error']}" if r.get("error") else None
        detail = None if r.get("changes") or error else r.get("detail")
        grid.add_row(
            cells.when(r["ts"]),
            r["action"],
            r.get("master"),
            r.get("follower"),
            r.get("bot"),
            cells.text(str(r["outcome"]), style="red" if failed else ""),
            cells.changes_cell(grid, r.get("changes"), error, detail),
        )
    return grid


def render_audit(
    console: Console, rows: Sequence[Mapping[str, Any]], *, wide: bool = False
) -> None:
    """Print the audit table (or a note when no event matches)."""
    if not rows:
        console.print("no audit events match")
        return
    audit_grid(rows).render(console, wide=wide)


_TRADE_COLUMNS = ("master_trade_roi", "follower_trade_roi", "trade_tracking_error")


def history_grid(rows: Sequence[Mapping[str, Any]]) -> Grid:
    """One row per pass or bucket of a history query; the realized (trade) columns only
    when some row has a recorded trade."""
    per_follower = any(r.get("follower") for r in rows)
    trades = any(r.get(c) is not None for r in rows for c in _TRADE_COLUMNS)
    realized = [
        Column("master trade ROI", justify="right", optional=True, drop=3),
        Column("follower trade ROI", justify="right", optional=True, drop=3),
        Column("trade tracking error", justify="right", optional=True, drop=3),
    ]
    grid = Grid(
        "history",
        [
            Column("time (UTC)"),
            Column("master", "id"),
            Column("follower", "id", optional=not per_follower, drop=0),
            Column("followers", justify="right", optional=True, drop=2),
            Column("clones", justify="right", optional=True, drop=1),
            Column("in sync", justify="right"),
            Column("master ROI", justify="right"),
            Column("follower ROI", justify="right"),
            Column("tracking error", justify="right"),
            *(realized if trades else []),
        ],
    )
    for r in rows:
        grid.add_row(
            cells.when(r["ts"]),
            r["master"],
            r["follower"],
            cells.cell(r["followers"]),
            cells.cell(r["clones"]),
            cells.cell(r["in_sync"]),
            cells.percent(r["master_roi"]),
            cells.percent(r["follower_roi"]),
            cells.percent(r["tracking_error"]),
            *([cells.percent(r.get(c)) for c in _TRADE_COLUMNS] if trades else []),
        )
    return grid


def render_history(
    console: Console, rows: Sequence[Mapping[str, Any]], *, wide: bool = False
) -> None:
    """Print the history table (or a note when no snapshot matches)."""
    if not rows:
        console.print("no snapshots match")
        return
    history_grid(rows).render(console, wide=wide)
