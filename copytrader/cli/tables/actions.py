"""The tables of a plan, a reconcile result and drift: the actions, what is held for a
person, the invalid policy files' problems, and the bots just adopted.

Each ``render_*`` takes the plain dicts the planner produces (the ``--json`` shapes) and
prints a :class:`~copytrader.cli.grid.Grid` fitted to the console (``wide``: full ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from copytrader.cli.grid import Cell, Column, Grid
from copytrader.cli.tables import cells
from copytrader.core import words

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


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
        row: list[str | Text | Cell | None] = [a["action"]] if with_action else []
        row += [a.get("master"), a.get("follower"), a.get("bot")]
        if with_outcome:
            failed = a.get("outcome") == "failed"
            row.append(cells.text(cells.cell(a.get("outcome")), style="red" if failed else ""))
        error = f"error: {a['error']}" if a.get("error") else None
        row.append(cells.changes_cell(grid, a.get("changes"), a.get("more"), error))
        grid.add_row(*row)
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
            cells.changes_cell(grid, h.get("changes"), h.get("detail")),
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
