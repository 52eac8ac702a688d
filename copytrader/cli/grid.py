"""Tables that fit the terminal without splitting an id, a timestamp or a setting key.

A :class:`Grid` is declared with its columns and rows, then fitted to a width: id columns
show short ids (8 hex digits, longer where two would look alike; every id prefix works as a
filter), "atom" columns (ids, times, actions, numbers) are never narrower than their widest
cell, and "text" columns wrap at spaces but never below their widest protected word (a
setting key). When even that does not fit, the columns marked ``optional`` are left out, in
the order given, and a line under the table names them. ``wide``: full ids, every column, at
the table's natural width. Rendering is rich's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SHORT = 8
#: A long machine id worth shortening: hex or a UUID, with an optional ``word_`` prefix.
_LONG_ID = re.compile(r"^([a-z]+_)?([0-9a-fA-F]{8}[0-9a-fA-F-]{4,})$")
#: The least width of a text column (free text such as an error message).
_TEXT_LEAST = 16


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """Each id -> the shortest prefix of at least :data:`SHORT` characters after its
    ``word_`` prefix that no other id of ``ids`` shares (as git abbreviates commits). Ids
    that are not long hex ids (account names) stay whole."""
    known = sorted(set(ids))
    out: dict[str, str] = {}
    for i, full in enumerate(known):
        match = _LONG_ID.match(full)
        if not match:
            out[full] = full
            continue
        length = len(match.group(1) or "") + SHORT
        neighbours = [known[j] for j in (i - 1, i + 1) if 0 <= j < len(known)]
        while length < len(full) and any(n.startswith(full[:length]) for n in neighbours):
            length += 1
        if full[length - 1 : length] == "-":  # never end a short UUID on its dash
            length += 1
        out[full] = full[:length]
    return out


@dataclass(frozen=True)
class Column:
    """``kind``: ``id`` (shortened, never split), ``atom`` (never split), ``text`` (wraps at
    spaces). ``optional``: may be left out when the table does not fit (lower ``drop`` first).
    """

    header: str
    kind: Literal["id", "atom", "text"] = "atom"
    justify: Literal["left", "right"] = "left"
    optional: bool = False
    drop: int = 0


@dataclass
class Cell:
    """A cell's text and the width it may never go below (its protected words, such as the
    setting keys of a changes cell)."""

    text: Text
    least: int = 0


@dataclass
class Grid:
    title: str | None
    columns: Sequence[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    footnotes: list[str] = field(default_factory=list)

    def footnote(self, text: str) -> str:
        """A marker (``[1]``) for ``text``, printed in full under the table: for free text
        holding ids or commands, which must not be folded into a narrow column."""
        self.footnotes.append(text)
        return f"[{len(self.footnotes)}]"

    def add_row(self, *cells: str | Text | Cell | None) -> None:
        """One row; None shows as ``-``."""
        from rich.text import Text

        row = []
        for value in cells:
            if isinstance(value, Cell):
                row.append(value)
            elif isinstance(value, Text):
                row.append(Cell(value))
            else:
                row.append(Cell(Text("-" if value is None else str(value))))
        self.rows.append(row)

    def render(self, console: Console, *, wide: bool = False) -> None:
        """Print the table fitted to ``console.width`` (``wide``: its natural width)."""
        from rich import box
        from rich.table import Table

        rows = self._ids_shortened(wide)
        natural, least = _measure(self.columns, rows)
        shown = list(range(len(self.columns)))
        if not wide:
            shown = _fit(self.columns, least, console.width)
        widths = _widths(self.columns, shown, natural, least, None if wide else console.width)
        table = Table(
            title=self.title,
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
            title_justify="left",
        )
        for i in shown:
            col = self.columns[i]
            table.add_column(
                col.header, justify=col.justify, width=widths[i], overflow="fold"
            )
        for row in rows:
            table.add_row(*(row[i].text for i in shown))
        # wide, or a terminal too narrow even for the least widths: wider than the console
        # (the terminal wraps the lines) rather than a split id
        if console.width < _total(widths):
            narrow, console.width = console.width, _total(widths)
            try:
                console.print(table)
            finally:
                console.width = narrow
        else:
            console.print(table)
        for i, text in enumerate(self.footnotes, 1):
            console.print(f"[{i}] {text}", markup=False, highlight=False)
        hidden = [self.columns[i].header for i in range(len(self.columns)) if i not in shown]
        notes = [self.caption] if self.caption else []
        if hidden:
            notes.append(
                f"not shown at {console.width} columns: {', '.join(hidden)} (--wide shows them)"
            )
        for note in notes:
            console.print(note, markup=False, highlight=False)

    def _ids_shortened(self, wide: bool) -> list[list[Cell]]:
        if wide:
            return self.rows
        from rich.text import Text

        id_cols = [i for i, c in enumerate(self.columns) if c.kind == "id"]
        ids = {row[i].text.plain for row in self.rows for i in id_cols}
        short = short_ids(ids)
        out = []
        for row in self.rows:
            new = list(row)
            for i in id_cols:
                plain = row[i].text.plain
                if short.get(plain, plain) != plain:
                    new[i] = Cell(Text(short[plain], style=row[i].text.style))
            out.append(new)
        return out


def _lines(text: str) -> list[str]:
    return text.split("\n") or [""]


def _measure(columns: Sequence[Column], rows: list[list[Cell]]) -> tuple[list[int], list[int]]:
    """Each column's natural width (its widest line, header included) and least width."""
    natural, least = [], []
    for i, col in enumerate(columns):
        cells = [row[i] for row in rows]
        widest = max((len(line) for c in cells for line in _lines(c.text.plain)), default=0)
        header_word = max((len(w) for w in col.header.split()), default=0)
        header = max((len(line) for line in _lines(col.header)), default=0)
        natural.append(max(widest, header, 1))
        if col.kind == "text":
            protected = max((c.least for c in cells), default=0)
            least.append(max(header_word, protected, min(widest, _TEXT_LEAST), 1))
        else:
            least.append(max(widest, header_word, 1))
    return natural, least


def _total(widths: dict[int, int]) -> int:
    return sum(widths.values()) + _overhead(len(widths))


def _overhead(count: int) -> int:
    # one space of padding and one of the (blank) divider between columns
    return 2 * max(count - 1, 0)


def _fit(columns: Sequence[Column], least: list[int], width: int) -> list[int]:
    """The columns shown: optional ones left out (lowest ``drop`` first) until the least
    widths fit."""
    shown = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.optional), key=lambda i: (columns[i].drop, -i)
    )
    while sum(least[i] for i in shown) + _overhead(len(shown)) > width and droppable:
        shown.remove(droppable.pop(0))
    return shown


def _widths(
    columns: Sequence[Column],
    shown: list[int],
    natural: list[int],
    least: list[int],
    width: int | None,
) -> dict[int, int]:
    """The width of each shown column: natural when it all fits (or no limit), else the
    least widths plus the room left shared among the columns that want more."""
    if width is None or sum(natural[i] for i in shown) + _overhead(len(shown)) <= width:
        return {i: natural[i] for i in shown}
    widths = {i: least[i] for i in shown}
    room = width - sum(widths.values()) - _overhead(len(shown))
    # text columns first (they wrap), then headers that would rather not wrap
    for kinds in (("text",), ("id", "atom")):
        wanting = [i for i in shown if columns[i].kind in kinds and natural[i] > widths[i]]
        while room > 0 and wanting:
            share = max(room // len(wanting), 1)
            for i in list(wanting):
                add = min(share, natural[i] - widths[i], room)
                widths[i] += add
                room -= add
                if widths[i] >= natural[i]:
                    wanting.remove(i)
                if room <= 0:
                    break
    return widths
