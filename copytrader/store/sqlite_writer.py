"""The SQLite writer: the bookkeeping of platform writes in one thread hop per transaction.

Through the async driver (aiosqlite) each statement of a transaction is several hops between
the event loop and the driver's thread (cursor, execute, fetch, close; then commit and the
pool's reset), about a dozen for a batch; under load each hop waits for the scheduler and the
GIL, and the transaction that a write waits for before it is sent takes milliseconds. Here
the whole transaction runs on a thread of its own over a synchronous connection to the same
database file: one hop there, one back.

The transaction starts with ``BEGIN IMMEDIATE``: it takes SQLite's write lock up front (a
writer that only reads first never has to upgrade its lock midway), and the fence check that
reads the lease row belongs to the same transaction as the rows it guards.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from copytrader.errors import StoreError
from copytrader.store.database import describe_error

T = TypeVar("T")


class SqliteWriter:
    """Runs transactions on one synchronous connection, in a thread of its own."""

    def __init__(self, path: str, on_connect: Callable[[Any, ConnectionPoolEntry], None]) -> None:
        """``path``: the database file; ``on_connect`` sets the connection's pragmas."""
        self._engine: Engine = create_engine(f"sqlite:///{path}")
        event.listen(self._engine, "connect", on_connect)
        event.listen(self._engine, "connect", _driver_autocommit)
        event.listen(self._engine, "begin", _begin_immediate)
        self._thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="copytrader-sqlite-writer"
        )
        self._conn: Connection | None = None
        self._closed = False

    async def run(self, what: str, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in one transaction, committed on success; a database failure
        becomes StoreError naming ``what``; any other exception passes through."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._transaction, work)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"database: {what} failed: {describe_error(exc)}") from exc

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        try:
            with self._conn.begin():
                return work(self._conn)
        except SQLAlchemyError:
            conn, self._conn = self._conn, None  # start afresh: never reuse a broken one
            with contextlib.suppress(SQLAlchemyError):
                conn.close()
            raise

    async def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def _driver_autocommit(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own implicit BEGIN comes only before DML; SQLAlchemy's begin event
    # issues ours instead, before the first statement.
    dbapi_conn.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
