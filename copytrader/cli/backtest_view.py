"""What ``policy backtest`` shows: a progress bar per backtest on stderr while they run, and
the table of figures (each follower beside the master) on stdout."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.text import Text

from copytrader.cli.grid import Column, Grid
from copytrader.core import backtest as core


class Bars:
    """One rich progress bar per backtest, on stderr (a terminal sees them move; a file or
    pipe gets their final state)."""

    def __init__(self, variants: list[core.Variant]) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[state]}"),
            console=Console(file=sys.stderr),
        )
        self.tasks: list[TaskID] = [
            self.progress.add_task(v.label, total=100, state="waiting") for v in variants
        ]

    def __enter__(self) -> Bars:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def say(self, line: str) -> None:
        """One line on stderr, above the bars."""
        self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def update(self, index: int, status: core.Status) -> None:
        """Show ``status`` on bar ``index`` (a completed backtest fills its bar)."""
        state = status.state.value
        if status.state in (core.State.FAILED, core.State.CANCELLED) and status.message:
            state += f": {status.message}"
        done = 100 if status.state is core.State.COMPLETED else status.progress
        self.progress.update(self.tasks[index], completed=done, state=state)


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}%" if signed else f"{value:.2f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _cell(text: str, diff: float | None = None, *, scale: float = 1.0, first: bool = False) -> Text:
    """A figure, with its difference from the master's in brackets (none on the master's)."""
    cell = Text(text)
    if first:
        return cell
    if diff is None:
        cell.append(" (-)", style="dim")
        return cell
    style = "green" if diff > 0 else "red" if diff < 0 else "dim"
    cell.append(f" ({diff * scale:+.2f})", style=style)
    return cell


def table(doc: dict[str, Any]) -> Grid:
    """The figures of a ``policy backtest --json`` document: the master's own first, then
    each follower with its difference from the master's figure in brackets (ROI, drawdown
    and win rate in percentage points); short ids, fitted to the terminal."""
    grid = Grid(
        f"{doc['file']}: {doc['days']} days to {doc['end'][:16]} UTC "
        "(in brackets: the difference from the master)",
        [
            Column("follower", "id"),
            Column("ROI", justify="right"),
            Column("max drawdown", justify="right"),
            Column("profit factor", justify="right", optional=True, drop=1),
            Column("win rate", justify="right", optional=True, drop=2),
            Column("backtest", "text"),
        ],
    )
    m = doc["master_result"]
    grid.add_row(Text("master (own settings)", style="bold"), *_figures(m, None), _state(m))
    for f in doc["followers"]:
        state = _state(f)
        if f["paused"]:
            state.append(" (paused)")
        grid.add_row(f["follower"], *_figures(f, f["diff"] or {}), state)
    return grid


def _figures(r: dict[str, Any], diff: dict[str, Any] | None) -> tuple[Text, Text, Text, Text]:
    first = diff is None
    d = diff or {}
    return (
        _cell(_pct(r["roi"]), d.get("roi"), first=first),
        _cell(_pct(r["max_drawdown_pct"], signed=False), d.get("max_drawdown_pct"), first=first),
        _cell(_num(r["profit_factor"]), d.get("profit_factor"), first=first),
        _cell(_rate(r["win_rate"]), d.get("win_rate"), scale=100, first=first),
    )


def _state(r: dict[str, Any]) -> Text:
    if r["state"] == "completed":
        same = " (same as the master's)" if r.get("same_as_master") else ""
        return Text(f"{(r['backtest'] or '')[:12]}{same}")
    return Text(f"{r['state']}: {r['error'] or ''}", style="red")
