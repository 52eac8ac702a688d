"""The failure episodes' part of the store: the ``episodes`` table (a row per streak that
is going on), written with the announcements it makes in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select

from copytrader.core.records import AuditEvent, Episode
from copytrader.store import tables
from copytrader.store.base import StoreBase

_COLUMNS = ("kind", "master", "follower", "streak", "open", "since", "last_error", "updated_at")


class EpisodeStore(StoreBase):
    """``episodes``: the streaks of failing passes and failing writes."""

    async def episodes(self) -> list[Episode]:
        """Every streak going on."""
        t = tables.episodes
        async with self.transaction("episodes") as conn:
            rows = (await conn.execute(select(t).order_by(t.c.key))).mappings().all()
        return [
            Episode(
                r["key"],
                r["kind"],
                r["master"],
                r["follower"],
                int(r["streak"]),
                bool(r["open"]),
                r["since"],
                r["last_error"],
            )
            for r in rows
        ]

    async def save_episodes(
        self,
        save: Sequence[Episode],
        drop: Sequence[str] = (),
        events: Sequence[AuditEvent] = (),
    ) -> None:
        """Upsert ``save``, delete the streaks ``drop`` (by key) and write ``events`` (with
        their notifications), all in one transaction."""
        if not save and not drop and not events:
            return
        t = tables.episodes
        now = datetime.now(UTC)
        rows = [
            {
                "key": e.key,
                "kind": e.kind,
                "master": e.master,
                "follower": e.follower,
                "streak": e.streak,
                "open": e.open,
                "since": e.since,
                "last_error": e.last_error,
                "updated_at": now,
            }
            for e in save
        ]
        async with self.transaction("save_episodes") as conn:
            if rows:
                await conn.execute(self._upsert(t, ["key"], _COLUMNS), rows)
            if drop:
                await conn.execute(delete(t).where(t.c.key.in_(list(drop))))
            await self._write_events(conn, events)
