"""The cells of the command tables: values in the policy's own words (``true``, ``null``),
numbers without float noise, times to the second in UTC, and the changes of an action with
no setting key or id ever split. No store or platform import here: these only format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from copytrader.cli.grid import Cell, Grid
from copytrader.core import words

if TYPE_CHECKING:
    from rich.text import Text

NONE = "-"
#: Words of free text that must never be split: ids (hex, UUIDs, ``bot_`` + hex).
_ID_WORD = re.compile(r"(?:[a-z]+_)?[0-9a-fA-F]{8}[0-9a-fA-F-]{4,}")


def text(value: str, style: str = "") -> Text:
    from rich.text import Text

    return Text(value, style=style)


def cell(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, float):
        return words.number(value, 6)
    return words.show(value) if isinstance(value, bool) else str(value)


def percent(value: Any) -> str:
    """An ROI as the platform gives it, already in percent (``12.5`` is ``+12.50%``)."""
    return NONE if value is None else f"{float(value):+.2f}%"


def when(ts: str | None) -> str:
    """An ISO 8601 UTC time as the tables show it: ``2026-12-04 12:00:03`` (seconds)."""
    if not ts:
        return NONE
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
    return Cell(text("\n".join(lines)), keys)
