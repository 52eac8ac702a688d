"""What every part of the SQL store shares: the engine, one transaction at a time, upserts,
and the one way audit events are written (with their notifications, in the same
transaction).

:class:`~copytrader.store.repo.SqlStore` is made of this base and a mixin per concern
(:mod:`copytrader.store.risk`, :mod:`copytrader.store.episodes`,
:mod:`copytrader.store.outbox`), so that each module stays small and named for what it holds.
The statements that record writes are :mod:`copytrader.store.writes`' (both drivers run
them); on a SQLite file a batch of them runs on the :mod:`copytrader.store.sqlite_writer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from copytrader.core.notices import Filter
from copytrader.core.records import AuditEvent
from copytrader.store import writes
from copytrader.store.database import Database, describe_error
from copytrader.store.sqlite_writer import SqliteWriter
from copytrader.store.writes import CHUNK, chunks, event_row

__all__ = ["CHUNK", "StoreBase", "chunks", "describe_error", "event_row"]


class StoreBase(Database):
    """The engine and the shared building blocks of the store's parts (the engine, its
    dialect and one transaction at a time are :class:`Database`'s, which the read-side
    queries use alone).

    ``notify``: which audit events get a notification in the outbox (None: this process
    has no notification sink configured, so none is written). ``writer`` (SQLite files):
    records batches of writes in one thread hop each.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        notify: Filter | None = None,
        writer: SqliteWriter | None = None,
    ) -> None:
        super().__init__(engine)
        self.notify = notify
        self.writer = writer
        self._stmts = writes.Statements(engine.dialect.name)

    def _upsert(self, table: Table, keys: Sequence[str], update_cols: Sequence[str]) -> Any:
        """An insert-or-update statement taking its row as parameters; built once per shape
        (building it is most of the CPU of a link update during a large fan-out)."""
        return self._stmts.upsert(table, keys, update_cols)

    async def _write_events(self, conn: AsyncConnection, events: Sequence[AuditEvent]) -> None:
        """Write ``events`` (a keyed one replaces the earlier event of its key) and, in the
        same transaction, the notification of each one that notifies."""
        await conn.run_sync(writes.write_events, self._stmts, events, self.notify)
