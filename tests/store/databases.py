"""Real databases for the store tests: a SQLite file per test, a throw-away PostgreSQL database.

PostgreSQL comes from ``COPYTRADER_TEST_POSTGRES_URL``; when it is unset or unreachable the
PostgreSQL cases skip. Each test run creates ``copytrader_test_<random>`` databases and drops
them afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy import make_url

ENV = "COPYTRADER_TEST_POSTGRES_URL"


def _plain(url: str) -> str:
    """The URL asyncpg itself accepts (no ``+driver``)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_plain(url), timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_admin_url() -> str | None:
    """The configured PostgreSQL URL when a server answers there, else None."""
    url = os.environ.get(ENV)
    if not url:
        return None
    try:
        asyncio.run(_admin(url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    return url


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server; yields its URL and drops it afterwards."""
    name = f"copytrader_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
