"""What every part of the SQL store shares: the engine, one transaction at a time, upserts,
and the one way audit events are written (with their notifications, in the same
transaction).

:class:`~copytrader.store.repo.SqlStore` is made of this base and a mixin per concern
(:mod:`copytrader.store.risk`, :mod:`copytrader.store.episodes`,
:mod:`copytrader.store.outbox`), so that each module stays small and named for what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from copytrader.core.notices import Filter
from copytrader.core.records import AuditEvent
from copytrader.store import outbox_rows, tables
from copytrader.store.database import Database, describe_error

__all__ = ["CHUNK", "StoreBase", "chunks", "describe_error", "event_row"]

# Rows per executemany: big enough to amortise round trips, small enough to bound memory.
CHUNK = 10_000


def event_row(event: AuditEvent) -> dict[str, Any]:
    """The audit_events row of ``event``."""
    return {**event.to_dict(), "event_key": event.key}


def chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class StoreBase(Database):
    """The engine and the shared building blocks of the store's parts (the engine, its
    dialect and one transaction at a time are :class:`Database`'s, which the read-side
    queries use alone).

    ``notify``: which audit events get a notification in the outbox (None: this process
    has no notification sink configured, so none is written).
    """

    def __init__(self, engine: AsyncEngine, *, notify: Filter | None = None) -> None:
        super().__init__(engine)
        self.notify = notify
        self._upserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}

    def _upsert(self, table: Table, keys: Sequence[str], update_cols: Sequence[str]) -> Any:
        """An insert-or-update statement taking its row as parameters; built once per shape
        (building it is most of the CPU of a link update during a large fan-out)."""
        shape = (table.name, tuple(keys), tuple(update_cols))
        stmt = self._upserts.get(shape)
        if stmt is None:
            dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
            ins = dialect_insert(table)
            stmt = ins.on_conflict_do_update(
                index_elements=list(keys), set_={c: ins.excluded[c] for c in update_cols}
            )
            self._upserts[shape] = stmt
        return stmt

    async def _write_events(self, conn: AsyncConnection, events: Sequence[AuditEvent]) -> None:
        """Write ``events`` (a keyed one replaces the earlier event of its key) and, in the
        same transaction, the notification of each one that notifies."""
        plain = [event_row(e) for e in events if e.key is None]
        for chunk in chunks(plain):
            await conn.execute(insert(tables.audit_events), list(chunk))
        keyed = [event_row(e) for e in events if e.key is not None]
        if keyed:
            cols = [c for c in keyed[0] if c != "event_key"]
            stmt = self._upsert(tables.audit_events, ["event_key"], cols)
            for row in keyed:  # in order: a pending event and its outcome may share a batch
                await conn.execute(stmt, row)
        if self.notify is not None:
            notes = outbox_rows.rows(self.notify, events)
            if notes:
                await conn.execute(insert(tables.notifications), notes)
