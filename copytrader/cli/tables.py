"""Rich tables for command results: status, audit, history, and plan/drift action lists.

Each ``*_table`` builds a :class:`rich.table.Table` from the plain dicts the queries and the
planner produce (the ``--json`` shapes); each ``render_*`` prints one to a console. No store
or platform import here: these only format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_NONE = "-"


def _cell(value: Any) -> str:
    if value is None:
        return _NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def percent(value: Any) -> str:
    """An ROI as the platform gives it, already in percent (``12.5`` is ``+12.50%``)."""
    return _NONE if value is None else f"{float(value):+.2f}%"


def format_changes(changes: Mapping[str, Any] | None) -> str:
    """``key: before -> after`` per line; a new value (before None) shows ``key: -> after``."""
    lines = []
    for key, pair in (changes or {}).items():
        before, after = (pair[0], pair[1]) if isinstance(pair, list | tuple) else (None, pair)
        left = "" if before is None else f"{_cell(before)} "
        lines.append(f"{key}: {left}-> {_cell(after)}")
    return "\n".join(lines)


def status_table(doc: Mapping[str, Any]) -> Table:
    """One row per master of a ``status --json`` document."""
    table = Table(title="copytrader status", show_lines=False)
    for name, justify in (
        ("master", "left"),
        ("status", "left"),
        ("ROI", "right"),
        ("followers", "right"),
        ("clones", "right"),
        ("in sync", "right"),
        ("drifted", "right"),
        ("failed", "right"),
        ("paused", "right"),
        ("suspected duplicates", "right"),
        ("adopt candidates", "right"),
        ("risk stopped", "right"),
        ("follower ROI (mean)", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for m in doc.get("masters", []):
        in_sync = Text(
            f"{m['in_sync']}/{m['clones']}",
            style="green" if m["in_sync"] == m["followers"] else "yellow",
        )
        table.add_row(
            m["master"],
            _cell(m["master_status"]),
            percent(m["master_roi"]),
            str(m["followers"]),
            str(m["clones"]),
            in_sync,
            Text(str(m["drifted"]), style="red" if m["drifted"] else ""),
            Text(str(m["failed"]), style="red" if m["failed"] else ""),
            str(m["paused"]),
            Text(str(dupes := m.get("suspected_duplicates", 0)), style="red" if dupes else ""),
            Text(str(held := m.get("adopt_candidates", 0)), style="yellow" if held else ""),
            Text(str(stops := m.get("risk_stopped", 0)), style="red" if stops else ""),
            percent(m["follower_roi_mean"]),
        )
    return table


def audit_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """One row per audit event, in the order given (oldest first from the query)."""
    table = Table(title="audit trail")
    for name in ("time (UTC)", "action", "master", "follower", "bot", "changes", "outcome"):
        table.add_column(name, overflow="fold")
    for r in rows:
        outcome = Text(r["outcome"], style="red" if r["outcome"] == "failed" else "")
        if r.get("error"):
            outcome.append(f"\n{r['error']}", style="dim")
        table.add_row(
            r["ts"],
            r["action"],
            _cell(r.get("master")),
            _cell(r.get("follower")),
            _cell(r.get("bot")),
            format_changes(r.get("changes")),
            outcome,
        )
    return table


_TRADE_COLUMNS = ("master_trade_roi", "follower_trade_roi", "trade_tracking_error")


def history_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """One row per pass or bucket of a history query; the realized (trade) columns only
    when some row has a recorded trade."""
    trades = any(r.get(c) is not None for r in rows for c in _TRADE_COLUMNS)
    table = Table(title="history")
    columns = [
        ("time (UTC)", "left"),
        ("master", "left"),
        ("follower", "left"),
        ("followers", "right"),
        ("clones", "right"),
        ("in sync", "right"),
        ("master ROI", "right"),
        ("follower ROI", "right"),
        ("tracking error", "right"),
    ]
    if trades:
        columns += [("master trade ROI", "right"), ("follower trade ROI", "right"),
                    ("trade tracking error", "right")]
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        cells = [
            r["ts"],
            _cell(r["master"]),
            _cell(r["follower"]),
            _cell(r["followers"]),
            _cell(r["clones"]),
            _cell(r["in_sync"]),
            percent(r["master_roi"]),
            percent(r["follower_roi"]),
            percent(r["tracking_error"]),
        ]
        if trades:
            cells += [percent(r.get(c)) for c in _TRADE_COLUMNS]
        table.add_row(*cells)
    return table


def actions_table(actions: Sequence[Mapping[str, Any]], *, title: str = "plan") -> Table:
    """A plan, reconcile result or drift list: ``{"action"?, "master", "follower", "bot",
    "changes"}`` (plus ``outcome``/``error`` after a reconcile)."""
    with_action = any("action" in a for a in actions)
    with_outcome = any("outcome" in a for a in actions)
    table = Table(title=title)
    if with_action:
        table.add_column("action")
    for name in ("master", "follower", "bot", "changes"):
        table.add_column(name, overflow="fold")
    if with_outcome:
        table.add_column("outcome", overflow="fold")
    for a in actions:
        cells: list[str | Text] = [a["action"]] if with_action else []
        cells += [
            _cell(a.get("master")),
            _cell(a.get("follower")),
            _cell(a.get("bot")),
            format_changes(a.get("changes")),
        ]
        if with_outcome:
            outcome = Text(
                _cell(a.get("outcome")), style="red" if a.get("outcome") == "failed" else ""
            )
            if a.get("error"):
                outcome.append(f"\n{a['error']}", style="dim")
            cells.append(outcome)
        table.add_row(*cells)
    return table


def risk_stops_table(stops: Sequence[Mapping[str, Any]]) -> Table:
    """The clones risk guards hold stopped, each with why and the command that resumes it."""
    table = Table(title="held by risk guards: stopped until `copytrader resume MASTER FOLLOWER`")
    for name in ("master", "follower", "rule", "value", "threshold", "since (UTC)", "why"):
        table.add_column(name, overflow="fold")
    for h in stops:
        table.add_row(
            str(h["master"]),
            str(h["follower"]),
            str(h["rule"]),
            _cell(h["value"]),
            _cell(h["threshold"]),
            str(h["since"]),
            str(h["detail"]),
        )
    return table


def render_status(console: Console, doc: Mapping[str, Any]) -> None:
    """Print the status table, then the risk-stopped clones (or a one-line note when
    nothing is recorded yet)."""
    if not doc.get("masters"):
        console.print("no masters recorded yet (run a reconcile pass first)")
        return
    console.print(status_table(doc))
    if doc.get("risk_stops"):
        console.print(risk_stops_table(doc["risk_stops"]))


def render_audit(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """Print the audit table (or a note when no event matches)."""
    if not rows:
        console.print("no audit events match")
        return
    console.print(audit_table(rows))


def render_history(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """Print the history table (or a note when no snapshot matches)."""
    if not rows:
        console.print("no snapshots match")
        return
    console.print(history_table(rows))


def problems_table(problems: Sequence[Mapping[str, Any]]) -> Table:
    """The invalid policy files' problems (``PROBLEM`` documents): nothing of them is planned."""
    table = Table(title="invalid policy files: nothing of these is applied")
    table.add_column("where", overflow="fold")
    table.add_column("problem", overflow="fold")
    for p in problems:
        table.add_row(f"{p['file']}:{p['line']}:{p['col']}", str(p["message"]))
    return table


def held_table(held: Sequence[Mapping[str, Any]]) -> Table:
    """What waits for a person (``HELD`` documents, with the note's ``detail`` when given:
    an adopt candidate's bot ids, the command that settles it)."""
    table = Table(title="held: waiting for a person")
    for name in ("reason", "master", "follower", "bot", "changes", "detail"):
        table.add_column(name, overflow="fold")
    for h in held:
        table.add_row(
            str(h["reason"]),
            _cell(h.get("master")),
            _cell(h.get("follower")),
            _cell(h.get("bot")),
            format_changes(h.get("changes")),
            str(h.get("detail") or ""),
        )
    return table


def render_plan(
    console: Console,
    actions: Sequence[Mapping[str, Any]],
    *,
    problems: Sequence[Mapping[str, Any]] = (),
    held: Sequence[Mapping[str, Any]] = (),
    title: str = "plan",
) -> None:
    """Print a plan or reconcile result: its actions, then the invalid files' problems and
    the held items. Says "nothing to do" only when all three are empty."""
    if not actions and not problems and not held:
        console.print("nothing to do: every clone matches its desired state")
        return
    if actions:
        console.print(actions_table(actions, title=title))
    else:
        console.print("no platform write to make")
    if problems:
        console.print(problems_table(problems))
    if held:
        console.print(held_table(held))


def render_adopted(console: Console, adopted: Sequence[Mapping[str, Any]]) -> None:
    """Print the bots just adopted as clones (or a note that none were)."""
    if not adopted:
        console.print("nothing adopted: no follower of that master has exactly one candidate")
        return
    table = Table(title="adopted: each bot is now its follower's clone")
    for name in ("master", "follower", "bot"):
        table.add_column(name, overflow="fold")
    for a in adopted:
        table.add_row(str(a["master"]), str(a["follower"]), str(a["bot"]))
    console.print(table)


def render_drift(console: Console, drift: Sequence[Mapping[str, Any]]) -> None:
    """Print the clones found changed by someone else (or a note that none are)."""
    if not drift:
        console.print("no drift: every clone matches its desired state")
        return
    console.print(actions_table(drift, title="drift"))
