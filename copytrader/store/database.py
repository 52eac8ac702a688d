"""The database behind the store: short transactions whose failures are
:class:`~copytrader.errors.StoreError`.

:class:`Reader` is all the read-side queries (``status``, ``audit``, ``history``) need: one
transaction at a time, whose connection has an awaitable ``execute``. :class:`Database` is
that on an AsyncEngine (the daemon's, and PostgreSQL's), and the base of
:class:`copytrader.store.repo.SqlStore`; :class:`SyncReader` is that on a plain SQLite
engine, for a database-only command: it loads neither the async machinery (which brings
SQLAlchemy's ORM) nor the store's table models, a third of such a command's start-up.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from copytrader.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def describe_error(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters (no secrets leak)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc)
    first = message.splitlines()[0] if message else ""
    return first or type(exc).__name__


class Conn(Protocol):
    """What a read-side query does with a connection: execute a statement, and read the
    (buffered) result."""

    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...


class Reader(abc.ABC):
    """A database the read-side queries can read."""

    @property
    @abc.abstractmethod
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""

    @abc.abstractmethod
    def transaction(self, what: str) -> AbstractAsyncContextManager[Conn]:
        """One transaction, committed on success; a database failure becomes StoreError."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close every pooled connection. The reader is unusable afterwards."""


class Database(Reader):
    """An AsyncEngine whose schema is at head (see ``engine.open_database``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(
        self, what: str, *, immediate: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed on success; a database failure becomes StoreError.

        ``immediate``: a read-modify-write transaction. On SQLite it starts with ``BEGIN
        IMMEDIATE``, taking the database's write lock before its first read (waiting up to
        the busy timeout for it), so no other writer can commit between what it reads and
        what it writes. Without it the driver begins a transaction only at the first
        INSERT/UPDATE/DELETE: the reads before run outside it, and a write committed by
        another process in between would be overwritten unseen. (A plain ``BEGIN`` is no
        cure: under WAL a deferred transaction that read first cannot take the write lock
        once another process has committed, and fails with "database is locked" at once.)
        On PostgreSQL the transaction is as ever; such a transaction locks the rows it reads
        with ``SELECT ... FOR UPDATE``.
        """
        try:
            async with self.engine.begin() as conn:
                if immediate and conn.dialect.name == "sqlite":
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"database: {what} failed: {describe_error(exc)}") from exc

    async def close(self) -> None:
        """Close every pooled connection. The database is unusable afterwards."""
        await self.engine.dispose()


class _Awaitable:
    """A plain connection whose ``execute`` can be awaited (it runs at once: a one-shot
    command has nothing else to do meanwhile)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)


class SyncReader(Reader):
    """A plain (blocking) SQLite engine whose schema is at head, for a database-only
    command (see ``engine.open_reader``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self, what: str) -> AsyncIterator[Conn]:
        try:
            with self.engine.begin() as conn:
                yield _Awaitable(conn)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"database: {what} failed: {describe_error(exc)}") from exc

    async def close(self) -> None:
        self.engine.dispose()
