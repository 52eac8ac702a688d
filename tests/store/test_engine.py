"""Opening the database: URL mapping, SQLite file hardening, pragmas, errors."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from copytrader.errors import ConfigError, StoreError
from copytrader.store import engine


@pytest.mark.parametrize(("given", "expected"), [
    ("sqlite:///copytrader.db", "sqlite+aiosqlite:///copytrader.db"),
    ("sqlite:////var/lib/ct/ct.db", "sqlite+aiosqlite:////var/lib/ct/ct.db"),
    ("postgresql://u:p@db:5432/ct", "postgresql+asyncpg://u:p@db:5432/ct"),
    ("postgres://u@db/ct", "postgresql+asyncpg://u@db/ct"),
    ("postgresql+psycopg://u@db/ct", "postgresql+psycopg://u@db/ct"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
])
def test_async_url_picks_the_async_driver_and_keeps_an_explicit_one(given: str,
                                                                     expected: str) -> None:
    assert engine.async_url(given) == expected


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_new_sqlite_file_is_0600_in_a_created_folder_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ct.db"
    store = await engine.open_store(f"sqlite:///{path}", create_folder=True)
    try:
        assert _mode(path) == 0o600
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        await store.add_events([])  # a write: the -wal file appears with the same mode
        wal = path.with_name("ct.db-wal")
        if wal.exists():
            assert _mode(wal) == 0o600
    finally:
        await store.close()


async def test_the_default_folder_is_made_0700_even_with_umask_0(tmp_path: Path) -> None:
    path = tmp_path / "state" / "copytrader" / "ct.db"
    old = os.umask(0)
    try:
        store = await engine.open_store(f"sqlite:///{path}", create_folder=True)
    finally:
        os.umask(old)
    await store.close()
    assert _mode(tmp_path / "state") == _mode(path.parent) == 0o700
    assert _mode(path) == 0o600


async def test_a_missing_folder_the_user_named_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "ct.db"
    with pytest.raises(ConfigError, match=f"the folder of the database file, {path.parent}, "
                       "does not exist; create it first"):
        await engine.open_store(f"sqlite:///{path}")
    assert not path.parent.exists()
    (tmp_path / "file").touch()
    with pytest.raises(ConfigError, match="is not a folder"):
        await engine.open_store(f"sqlite:///{tmp_path / 'file' / 'ct.db'}")


async def test_an_existing_loose_sqlite_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "ct.db"
    path.touch()
    os.chmod(path, 0o644)
    store = await engine.open_store(f"sqlite:///{path}")
    await store.close()
    assert _mode(path) == 0o600


async def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as err:
        # Port 1 on loopback: nothing listens, refused at once.
        await engine.open_store("postgresql://copy:hunter2secret@127.0.0.1:1/ct")
    assert "hunter2secret" not in str(err.value)
    assert "127.0.0.1" in str(err.value)


async def test_migrate_false_opens_without_creating_tables(tmp_path: Path) -> None:
    store = await engine.open_store(f"sqlite:///{tmp_path / 'ct.db'}", migrate=False)
    try:
        assert await store.ping()
        async with store.engine.connect() as conn:
            names = (await conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'"))).scalars().all()
        assert names == []
    finally:
        await store.close()


async def test_ping_is_false_once_closed_database_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "ct.db"
    store = await engine.open_store(f"sqlite:///{path}")
    await store.close()
    path.unlink()
    path.mkdir()  # a folder where the file was: SQLite cannot open it
    assert not await store.ping()
    await store.close()
    # aiosqlite resolves the stop of a failed connection from its worker thread a moment
    # later; let it finish while this test's event loop is still open.
    for _ in range(200):
        if not any("_connection_worker_thread" in t.name for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)
