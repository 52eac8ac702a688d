"""Store fixtures, parametrised over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from copytrader.store import engine
from copytrader.store.repo import SqlStore
from tests.store import databases


@pytest.fixture(scope="session")
def postgres_admin() -> str | None:
    return databases.postgres_admin_url()


@pytest.fixture(scope="session")
def postgres_url(postgres_admin: str | None) -> Iterator[str | None]:
    """One migrated database for the whole run (tests truncate it), or None."""
    if postgres_admin is None:
        yield None
        return
    with databases.fresh_postgres_database(postgres_admin) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 postgres_url: str | None) -> str:
    if request.param == "sqlite":
        (tmp_path / "state").mkdir()
        return f"sqlite:///{tmp_path / 'state' / 'copytrader.db'}"
    if postgres_url is None:
        pytest.skip(f"PostgreSQL not reachable ({databases.ENV} unset or server down)")
    return postgres_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    s = await engine.open_store(database_url)
    if s.dialect == "postgresql":
        async with s.engine.begin() as conn:
            await conn.execute(
                text(
                    "TRUNCATE masters, links, runs, snapshots, audit_events, master_states, "
                    "trades, risk_states"
                )
            )
            await conn.execute(
                text(
                    "UPDATE writer_lease SET holder = '', epoch = 0, "
                    "expires_at = NULL, acquired_at = NULL"
                )
            )
    try:
        yield s
    finally:
        await s.close()
