"""The database behind the store: an AsyncEngine with short transactions whose failures are
:class:`~copytrader.errors.StoreError`.

:class:`Database` is all the read-side queries (``status``, ``audit``, ``history``) need;
:class:`copytrader.store.repo.SqlStore` adds the reconcile service's reads and writes. It is
kept apart so that a database-only command never loads the table models (SQLModel).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from copytrader.errors import StoreError


def describe_error(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters (no secrets leak)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc)
    first = message.splitlines()[0] if message else ""
    return first or type(exc).__name__


class Database:
    """An AsyncEngine whose schema is at head (see ``engine.open_database``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self, what: str) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed on success; a database failure becomes StoreError."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"database: {what} failed: {describe_error(exc)}") from exc

    async def close(self) -> None:
        """Close every pooled connection. The database is unusable afterwards."""
        await self.engine.dispose()
