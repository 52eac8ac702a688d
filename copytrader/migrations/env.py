"""Alembic environment of copytrader (async engines, run through ``run_sync``).

Two ways in: :func:`copytrader.store.engine.open_store` hands over an open connection in
``config.attributes["connection"]``; the ``alembic`` command line (``alembic.ini`` at the repo
root) builds an engine from ``COPYTRADER_DATABASE_URL`` or ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from copytrader.store import tables
from copytrader.store.engine import async_url

config = context.config
target_metadata = tables.metadata

# Only the command line configures logging here; copytrader itself owns its logging set-up.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later migrations rewrite tables in batches.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _offline() -> None:
    url = os.environ.get("COPYTRADER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = os.environ.get("COPYTRADER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set COPYTRADER_DATABASE_URL or sqlalchemy.url in alembic.ini")
    asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    _offline()
else:
    _online()
