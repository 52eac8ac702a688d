"""What the demo shows: masters, followers and the latest audit events, read from the database.

:func:`fetch` reads one frame (the same database ``copytrader status`` and ``audit`` read);
:func:`render` turns it into rich tables for ``rich.live.Live``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from copytrader.cli import tables
from copytrader.core import words
from copytrader.store import queries
from copytrader.store.repo import SqlStore

EVENTS = 12


@dataclass
class Frame:
    """One screenful of data."""

    header: str
    #: master id -> a name for people (the demo world's).
    names: dict[str, str] = field(default_factory=dict)
    masters: list[dict[str, Any]] = field(default_factory=list)
    followers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def name(master: str | None, names: dict[str, str]) -> str:
    """A master's demo name, or its short id."""
    if master is None:
        return ""
    return names.get(master, master[:8])


async def fetch(store: SqlStore, header: str, names: dict[str, str]) -> Frame:
    """Read a frame from the database."""
    status = await queries.status(store)
    return Frame(
        header=header,
        names=names,
        masters=status["masters"],
        followers=await queries.latest_clones(store),
        events=await queries.audit(store, limit=EVENTS),
    )


def _changes(changes: dict[str, list[Any]]) -> str:
    parts = [
        f"{k} {'∅' if v[0] is None else words.show(v[0])}→{words.show(v[1])}"
        for k, v in changes.items()
    ]
    text = ", ".join(parts)
    return text if len(text) <= 70 else text[:69] + "…"


def render(frame: Frame) -> RenderableType:
    """The live view: a header, then the three tables."""
    masters = Table(title="Masters", expand=True)
    for col in ("master", "status", "ROI", "followers", "clones", "in sync", "drifted", "failed"):
        masters.add_column(col)
    for m in frame.masters:
        masters.add_row(
            name(m["master"], frame.names),
            m["master_status"] or "",
            tables.percent(m["master_roi"]),
            str(m["followers"]),
            str(m["clones"]),
            str(m["in_sync"]),
            str(m["drifted"]),
            str(m["failed"]),
        )

    people = Table(title="Followers", expand=True)
    for col in ("master", "follower", "clone", "status", "in sync", "ROI"):
        people.add_column(col)
    for f in frame.followers:
        sync = Text("yes", style="green") if f["in_sync"] else Text("no", style="red")
        if f["paused"]:
            sync.append(" (paused)", style="dim")
        people.add_row(
            name(f["master"], frame.names),
            f["follower"][:8],
            (f["bot_id"] or "-")[:12],
            f["status"] or "-",
            sync,
            tables.percent(f["roi"]),
        )

    audit = Table(title="Latest audit events", expand=True)
    for col in ("time", "action", "master", "follower", "outcome", "changes"):
        audit.add_column(col, overflow="fold")
    for e in frame.events:
        # red: refused; yellow: it may or may not have reached the platform
        style = {"failed": "red", "unknown": "yellow", "pending": "yellow"}.get(e["outcome"])
        audit.add_row(
            e["ts"][11:19],
            Text(e["action"], style=style or "cyan"),
            name(e["master"], frame.names),
            (e["follower"] or "")[:8],
            e["outcome"],
            _changes(e["changes"]) or (e["detail"] or ""),
        )
    return Group(Panel(frame.header, title="copytrader demo"), masters, people, audit)
