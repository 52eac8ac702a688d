"""Opening the database: URL normalisation, SQLite hardening, migrations on first use.

The Alembic scripts live in the package (``copytrader/migrations``, shipped as package data),
so a source checkout, an editable install and a wheel all find them the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from copytrader.core import notices
from copytrader.errors import StoreError
from copytrader.store.repo import SqlStore, describe_error

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
# Any constant: serialises concurrent first-use migrations on one PostgreSQL database.
_PG_MIGRATION_LOCK = 7_331_873_001


def async_url(url: str) -> str:
    """The URL with an async driver: ``sqlite`` -> aiosqlite, ``postgres(ql)`` -> asyncpg.

    A URL that already names a driver (``scheme+driver://``) is returned unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "+" in scheme:
        return url
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    return f"{driver}://{rest}" if driver else url


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return url.split("://", 1)[0] + "://..."


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with this copytrader."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    # Take the database's write lock before looking at the revision, so two processes
    # starting on a new database take turns: the second finds the schema at head.
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits up to busy_timeout for the lock
    if _current_revision(conn) == head_revision():
        return
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to the newest revision (no-op when there)."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_current_revision)
    if current == head_revision():
        return
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def _prepare_sqlite_file(database: str | None) -> None:
    """Create the database file 0600 (and its folder) before SQLite does, and tighten it."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    # SQLite gives its -wal and -shm files the database file's mode.
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            os.chmod(candidate, 0o600)


def _sqlite_pragmas(dbapi_conn: object, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    # WAL: readers (status, audit) never block the daemon's writes, nor it them.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Durable enough in WAL mode (a power cut may lose the last commit, never corrupt).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Session settings on PostgreSQL. No statement waits more than 5 s for a row lock, and a
#: session that sits in an open transaction (a paused process) is ended after 30 s: a stalled
#: process can never hold up its successor's writes for long. TCP keepalives notice a dead
#: peer (a host gone without closing its connections) in about a minute.
_PG_SERVER_SETTINGS = {
    "lock_timeout": "5000",
    "idle_in_transaction_session_timeout": "30000",
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}


def make_engine(url: str) -> AsyncEngine:
    """An AsyncEngine for ``url``; for SQLite the file is made 0600 and pragmas set."""
    full = async_url(url)
    try:
        parsed = make_url(full)
    except SQLAlchemyError as exc:
        raise StoreError(f"invalid database URL {safe_url(url)}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        try:
            _prepare_sqlite_file(parsed.database)
        except OSError as exc:
            raise StoreError(
                f"cannot create database file {parsed.database}: {exc.strerror}"
            ) from exc
        engine = create_async_engine(full)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    args: dict[str, object] = {}
    if parsed.get_driver_name() == "asyncpg":
        # pg_stat_activity shows which replica a session belongs to.
        settings = {**_PG_SERVER_SETTINGS, "application_name": f"copytrader {os.getpid()}"}
        args = {"server_settings": settings, "command_timeout": 60}
    return create_async_engine(full, pool_pre_ping=True, connect_args=args)


async def open_store(
    url: str, *, migrate: bool = True, notify: notices.Filter | None = None
) -> SqlStore:
    """Open the store at ``url`` (``sqlite:///PATH`` or ``postgresql://...``).

    With ``migrate`` the schema is brought to the newest revision first. ``notify``: the
    audit events that get a notification in the outbox (None: none). Raises StoreError
    (never showing a password) when the database cannot be reached or migrated.
    """
    engine = make_engine(url)
    try:
        if migrate:
            await upgrade_schema(engine)
        else:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except StoreError:
        await engine.dispose()
        raise
    except Exception as exc:  # the driver's own errors too (asyncpg, OSError): one StoreError
        await engine.dispose()
        raise StoreError(f"cannot open database {safe_url(url)}: {describe_error(exc)}") from exc
    return SqlStore(engine, notify=notify)
