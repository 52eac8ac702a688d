"""Each policy master as a pass last saw it (``master_states``): written by the pass when it
changes, read by the dashboard to compute a follower's desired settings without the platform.

A row holds the master's settings and its script's setting specs as JSON; :func:`load` maps
them back to :class:`~copytrader.core.records.MasterState` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from copytrader.core.model import Script, SettingSpec, SettingType, Status
from copytrader.core.records import MasterState
from copytrader.store import tables
from copytrader.store.base import StoreBase

_COLUMNS = ("name", "bot_type", "status", "settings", "script", "seen_at")


def script_json(script: Script) -> dict[str, Any]:
    """``script`` as plain JSON data (:func:`script_of` reads it back)."""
    return {
        "type": script.type,
        "name": script.name,
        "settings": [
            {
                "key": s.key,
                "type": s.type.value,
                "default": s.default,
                "can_be_edited": s.can_be_edited,
                "options": list(s.options),
                "name": s.name,
                "group": s.group,
            }
            for s in script.settings
        ],
    }


def script_of(doc: dict[str, Any]) -> Script:
    """The script stored by :func:`script_json`; an unknown setting type reads as a string."""
    specs = []
    for s in doc.get("settings") or []:
        try:
            kind = SettingType(s.get("type"))
        except ValueError:
            kind = SettingType.STRING
        specs.append(
            SettingSpec(
                key=str(s["key"]),
                type=kind,
                default=s.get("default"),
                can_be_edited=bool(s.get("can_be_edited", True)),
                options=tuple(str(o) for o in s.get("options") or ()),
                name=str(s.get("name") or ""),
                group=str(s.get("group") or ""),
            )
        )
    return Script(type=str(doc.get("type") or ""), name=str(doc.get("name") or ""),
                  settings=tuple(specs))


def _row(state: MasterState) -> dict[str, Any]:
    script = script_json(state.script)
    return {
        "master": state.master,
        "name": display_name(dict(state.settings), script),
        "bot_type": state.bot_type,
        "status": Status(state.status).value,
        "settings": dict(state.settings),
        "script": script,
        "seen_at": state.seen_at,
    }


class MasterStateStore(StoreBase):
    """The store's part that keeps each master as last seen."""

    async def save_master_states(self, found: Sequence[MasterState]) -> None:
        """Insert or replace the state of each master in ``found`` (one transaction)."""
        if not found:
            return
        stmt = self._upsert(tables.master_states, ["master"], _COLUMNS)
        async with self.transaction("save master states") as conn:
            await conn.execute(stmt, [_row(s) for s in found])


async def load(store: StoreBase, master: str) -> MasterState | None:
    """The last seen state of ``master``, or None when no pass recorded one."""
    t = tables.master_states
    async with store.transaction("master state") as conn:
        row = (await conn.execute(select(t).where(t.c.master == master))).mappings().first()
    if row is None:
        return None
    return MasterState(
        master=row["master"],
        bot_type=row["bot_type"],
        status=Status.parse(row["status"]),
        settings=MappingProxyType(dict(row["settings"] or {})),
        script=script_of(dict(row["script"] or {})),
        seen_at=row["seen_at"],
    )


async def names(store: StoreBase) -> dict[str, str]:
    """A display name per master with a recorded state: its ``name`` setting where the
    platform has one (BotPrimeX), else the script's name and the market (``symbol``/``pair``).
    Platform text: escape it wherever it is shown."""
    t = tables.master_states
    async with store.transaction("master names") as conn:
        rows = (await conn.execute(select(t.c.master, t.c.name))).all()
    return {row[0]: row[1] for row in rows}


def display_name(settings: dict[str, Any], script: dict[str, Any]) -> str:
    """See :func:`names`."""
    own = settings.get("name")
    if isinstance(own, str) and own.strip():
        return own.strip()
    market = settings.get("symbol") or settings.get("pair") or ""
    kind = str(script.get("name") or script.get("type") or "")
    return " · ".join(str(p) for p in (kind, market) if p)
