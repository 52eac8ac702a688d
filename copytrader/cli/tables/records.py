"""The tables of command results: status, audit, history, plan/reconcile/drift actions, held
items, adoptions.

Each ``render_*`` takes the plain dicts the queries and the planner produce (the ``--json``
shapes) and prints a :class:`~copytrader.cli.grid.Grid` fitted to the console: short ids
(``wide``: full ones), nothing split, values in the policy's own words (``true``, ``null``)
and numbers without float noise. No store or platform import here: these only format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from copytrader.cli.grid import Cell, Column, Grid
from copytrader.core import words

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_NONE = "-"
#: Words of free text that must never be split: ids (hex, UUIDs, ``bot_`` + hex).
_ID_WORD = re.compile(r"(?:[a-z]+_)?[0-9a-fA-F]{8}[0-9a-fA-F-]{4,}")


def _text(value: str, style: str = "") -> Text:
    from rich.text import Text

    return Text(value, style=style)


def _cell(value: Any) -> str:
    if value is None:
        return _NONE
    if isinstance(value, float):
        return words.number(value, 6)
    return words.show(value) if isinstance(value, bool) else str(value)


def percent(value: Any) -> str:
    """An ROI as the platform gives it, already in percent (``12.5`` is ``+12.50%``)."""
    return _NONE if value is None else f"{float(value):+.2f}%"


def when(ts: str | None) -> str:
    """An ISO 8601 UTC time as the tables show it: ``2026-12-04 12:00:03`` (seconds)."""
    if not ts:
        return _NONE
    text = re.sub(r"(\d\d:\d\d:\d\d)\.\d+", r"\1", ts.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return ts
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_changes(changes: Mapping[str, Any] | None) -> str:
    """``key: before -> after`` per line; a new value (before None) shows ``key: -> after``.
    Values are written as a policy file writes them (``true``, ``null``, ``3500``)."""
    lines = []
    for key, pair in (changes or {}).items():
        before, after = (pair[0], pair[1]) if isinstance(pair, list | tuple) else (None, pair)
        left = "" if before is None else f"{words.show(before)} "
        lines.append(f"{key}: {left}-> {words.show(after)}")
    return "\n".join(lines)


def _protected(text: str) -> int:
    """The widest word of free text that must stay whole (an id)."""
    return max((len(w) for w in _ID_WORD.findall(text)), default=0)


def changes_cell(grid: Grid, changes: Mapping[str, Any] | None, *extra: str | None) -> Cell:
    """The changes of an action or event, then any extra lines (an error, a detail). No
    setting key is ever split; an extra line that holds an id goes under the table as a
    footnote (``[1]``), whole."""
    body = format_changes(changes)
    keys = max((len(k) + 1 for k in (changes or {})), default=0)
    lines = [body] if body else []
    for e in extra:
        if e:
            lines.append(grid.footnote(e) if _protected(e) else e)
    return Cell(_text("\n".join(lines)), keys)


# -- status --------------------------------------------------------------------------------


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
    text = _text("")
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
        in_sync = _text(
            f"{m['in_sync']}/{m['followers']}",
            style="green" if m["in_sync"] == m["followers"] else "yellow",
        )
        grid.add_row(
            m["master"],
            _cell(m["master_status"]),
            percent(m["master_roi"]),
            str(m["followers"]),
            str(m["clones"]),
            str(m.get("platform_carried", 0)),
            in_sync,
            percent(m["follower_roi_mean"]),
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
        f"figures from pass {as_of['run_id']}{state} at {when(as_of['ts'])} UTC, "
        f"{_ago(ts, now)}"
    ]
    for old in as_of.get("older") or ():
        lines.append(
            f"{old['master']}: figures from an older pass, {old['run_id']} at "
            f"{when(old['ts'])} UTC (no policy names it now)"
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
            _cell(h["value"]),
            _cell(h["threshold"]),
            when(h["since"]),
            _text(str(h["detail"])),
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
            when(r["ts"]),
            r["action"],
            r.get("master"),
            r.get("follower"),
            r.get("bot"),
            _text(str(r["outcome"]), style="red" if failed else ""),
            changes_cell(grid, r.get("changes"), error, detail),
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
            when(r["ts"]),
            r["master"],
            r["follower"],
            _cell(r["followers"]),
            _cell(r["clones"]),
            _cell(r["in_sync"]),
            percent(r["master_roi"]),
            percent(r["follower_roi"]),
            percent(r["tracking_error"]),
            *([percent(r.get(c)) for c in _TRADE_COLUMNS] if trades else []),
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


# -- plan, reconcile, drift ----------------------------------------------------------------


def actions_grid(actions: Sequence[Mapping[str, Any]], *, title: str) -> Grid:
    """A plan, reconcile result or drift list: ``{"action"?, "master", "follower", "bot",
    "changes"}`` (plus ``outcome``/``error`` after a reconcile)."""
    with_action = any("action" in a for a in actions)
    with_outcome = any("outcome" in a for a in actions)
    columns = [Column("action")] if with_action else []
    columns += [
        Column("master", "id"),
        Column("follower", "id"),
        Column("bot", "id", optional=True),
    ]
    if with_outcome:
        columns.append(Column("outcome"))
    columns.append(Column("changes", "text"))
    grid = Grid(title, columns)
    for a in actions:
        cells: list[str | Text | Cell | None] = [a["action"]] if with_action else []
        cells += [a.get("master"), a.get("follower"), a.get("bot")]
        if with_outcome:
            failed = a.get("outcome") == "failed"
            cells.append(_text(_cell(a.get("outcome")), style="red" if failed else ""))
        error = f"error: {a['error']}" if a.get("error") else None
        cells.append(changes_cell(grid, a.get("changes"), a.get("more"), error))
        grid.add_row(*cells)
    return grid


def held_grid(held: Sequence[Mapping[str, Any]]) -> Grid:
    """What waits for a person (``HELD`` documents, with the note's ``detail`` when given:
    an adopt candidate's bot ids, the command that settles it)."""
    grid = Grid(
        "held: waiting for a person",
        [
            Column("reason"),
            Column("master", "id"),
            Column("follower", "id"),
            Column("bot", "id", optional=True),
            Column("changes / why", "text"),
        ],
    )
    for h in held:
        grid.add_row(
            str(h["reason"]),
            h.get("master"),
            h.get("follower"),
            h.get("bot"),
            changes_cell(grid, h.get("changes"), h.get("detail")),
        )
    return grid


def render_problems(console: Console, problems: Sequence[Mapping[str, Any]]) -> None:
    """The invalid policy files' problems, one ``PATH:LINE:COL: message`` line each (the
    form editors jump to): nothing of these files is applied."""
    files = len({p["file"] for p in problems})
    console.print(
        f"{words.plural(files, 'invalid policy file')} (nothing of "
        f"{'it' if files == 1 else 'them'} is applied), "
        f"{words.plural(len(problems), 'problem')}:",
        style="red",
    )
    for p in problems:
        # one line each, never wrapped: PATH:LINE:COL stays what an editor can jump to
        line = f"{p['file']}:{p['line']}:{p['col']}: {p['message']}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def render_plan(
    console: Console,
    actions: Sequence[Mapping[str, Any]],
    *,
    problems: Sequence[Mapping[str, Any]] = (),
    held: Sequence[Mapping[str, Any]] = (),
    title: str = "plan",
    empty: str = "nothing to do: every clone matches its desired state",
    wide: bool = False,
) -> None:
    """Print a plan or reconcile result: its actions, then the invalid files' problems and
    the held items. Says ``empty`` only when all three are empty."""
    if not actions and not problems and not held:
        console.print(empty, markup=False, highlight=False, soft_wrap=True)
        return
    if actions:
        actions_grid(actions, title=title).render(console, wide=wide)
    else:
        console.print(f"{title}: no platform write to make")
    if held:
        held_grid(held).render(console, wide=wide)
    if problems:
        render_problems(console, problems)


def render_adopted(
    console: Console, adopted: Sequence[Mapping[str, Any]], *, wide: bool = False
) -> None:
    """Print the bots just adopted as clones (or a note that none were)."""
    if not adopted:
        console.print("nothing adopted: no follower of that master has exactly one candidate")
        return
    grid = Grid(
        "adopted: each bot is now its follower's clone",
        [Column("master", "id"), Column("follower", "id"), Column("bot", "id")],
    )
    for a in adopted:
        grid.add_row(a["master"], a["follower"], a["bot"])
    grid.render(console, wide=wide)


def render_drift(
    console: Console, drift: Sequence[Mapping[str, Any]], *, wide: bool = False
) -> None:
    """Print the clones found changed by someone else (or a note that none are)."""
    if not drift:
        console.print("no drift: every clone matches its desired state")
        return
    actions_grid(drift, title="drift").render(console, wide=wide)
