"""Opening the database: URL normalisation, SQLite hardening, migrations on first use.

The Alembic scripts live in the package (``copytrader/migrations``, shipped as package data),
so a source checkout, an editable install and a wheel all find them the same way. Opening a
database that is already at the newest revision costs one query and never loads Alembic:
the revision shipped is read from the scripts' own ``revision =`` lines
(:func:`shipped_head`), and Alembic is imported only when there is something to migrate.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from copytrader.errors import ConfigError, StoreError
from copytrader.store.database import Database, Reader, SyncReader, describe_error

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

    from copytrader.core import notices
    from copytrader.store.repo import SqlStore
    from copytrader.store.sqlite_writer import SqliteWriter

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
# Any constant: serialises concurrent first-use migrations on one PostgreSQL database.
_PG_MIGRATION_LOCK = 7_331_873_001
_REVISION = re.compile(r"""^revision\s*(?::[^=]*)?=\s*["']([^"']+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision\s*(?::[^=]*)?=\s*(?:["']([^"']+)["']|None)""", re.M)


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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with this copytrader (as Alembic sees it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@functools.cache
def shipped_head() -> str | None:
    """The newest revision shipped, read from the scripts' ``revision``/``down_revision``
    lines without loading Alembic: the one revision no other revises. None when that is not
    exactly one (then Alembic decides)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down is not None and down.group(1):
            revised.add(down.group(1))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    from alembic import command

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


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (one query); None when it has none yet."""
    try:
        async with engine.connect() as conn:
            found = await conn.execute(text("SELECT version_num FROM alembic_version"))
            rows = found.all()
    except SQLAlchemyError as exc:
        if "alembic_version" in str(exc):  # no such table: a new database
            return None
        raise
    return str(rows[0][0]) if len(rows) == 1 else None


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to the newest revision (no-op when there; then
    it costs one query and Alembic is not loaded)."""
    current = await stored_revision(engine)
    if current is not None and current == shipped_head():
        return
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def _prepare_sqlite_file(database: str | None, create_folder: bool) -> None:
    """Create the database file 0600 before SQLite does, and tighten it. Its folder must
    exist, unless ``create_folder`` (copytrader's default folder), which is made 0700."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if not path.parent.is_dir():
        if not create_folder:
            what = "is not a folder" if path.parent.exists() else "does not exist"
            raise ConfigError(
                f"COPYTRADER_DATABASE_URL: the folder of the database file, {path.parent}, "
                f"{what}; create it first (copytrader creates only its default folder)"
            )
        _make_private_folders(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    # SQLite gives its -wal and -shm files the database file's mode.
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            os.chmod(candidate, 0o600)


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and any missing parent 0700 (the XDG rule for state folders)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700)
        os.chmod(each, 0o700)  # mkdir's mode is masked by the umask


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
#: session that sits in an open transaction (a paused process) is ended after 30 s, or after
#: the writer lease's length for a writer's store (``open_store(idle_seconds=...)``): a
#: writer paused inside the transaction that fences its pending events holds the lease row
#: ``FOR SHARE``, which the successor's takeover must wait for, so a stalled process can never
#: hold up its successor for more than about one more lease. TCP keepalives notice a dead
#: peer (a host gone without closing its connections) in about a minute.
IDLE_IN_TRANSACTION_SECONDS = 30.0
_PG_SERVER_SETTINGS = {
    "lock_timeout": "5000",
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}


def make_engine(
    url: str, *, create_folder: bool = False, idle_seconds: float = IDLE_IN_TRANSACTION_SECONDS
) -> AsyncEngine:
    """An AsyncEngine for ``url``; for SQLite the file is made 0600 and pragmas set, and
    ConfigError names its folder when that is missing (``create_folder``: make it).
    ``idle_seconds``: PostgreSQL ends a session idle that long inside a transaction."""
    from sqlalchemy.ext.asyncio import create_async_engine

    full = async_url(url)
    try:
        parsed = make_url(full)
    except SQLAlchemyError as exc:
        raise StoreError(f"invalid database URL {safe_url(url)}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        try:
            _prepare_sqlite_file(parsed.database, create_folder)
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
        settings = {
            **_PG_SERVER_SETTINGS,
            "idle_in_transaction_session_timeout": str(int(idle_seconds * 1000)),
            "application_name": f"copytrader {os.getpid()}",
        }
        args = {"server_settings": settings, "command_timeout": 60}
    return create_async_engine(full, pool_pre_ping=True, connect_args=args)


async def open_store(
    url: str,
    *,
    migrate: bool = True,
    notify: notices.Filter | None = None,
    create_folder: bool = False,
    idle_seconds: float = IDLE_IN_TRANSACTION_SECONDS,
) -> SqlStore:
    """Open the store at ``url`` (``sqlite:///PATH`` or ``postgresql://...``).

    With ``migrate`` the schema is brought to the newest revision first. ``notify``: the
    audit events that get a notification in the outbox (None: none). Raises StoreError
    (never showing a password) when the database cannot be reached or migrated, and
    ConfigError when a SQLite file's folder is missing (``create_folder``: make it 0700).
    ``idle_seconds``: see :data:`IDLE_IN_TRANSACTION_SECONDS` (a writer's: its lease).
    """
    from copytrader.store.repo import SqlStore

    engine = await _open(url, migrate=migrate, create_folder=create_folder,
                         idle_seconds=idle_seconds)
    return SqlStore(engine, notify=notify, writer=_writer(engine))


def _writer(engine: AsyncEngine) -> SqliteWriter | None:
    """The writer thread of a SQLite database file (None: PostgreSQL, or a memory database
    that a second connection would not see)."""
    from copytrader.store.sqlite_writer import SqliteWriter

    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return SqliteWriter(str(Path(database).expanduser()), _sqlite_pragmas)


async def open_reader(url: str, *, create_folder: bool = False) -> Reader:
    """A database the read-side queries can read, opened as cheaply as can be: a SQLite file
    at the newest revision through a plain SQLite engine (:class:`SyncReader`, no async
    machinery), anything else through :func:`open_database` (which migrates)."""
    sync = _sqlite_engine(url, create_folder=create_folder)
    if sync is not None:
        head = shipped_head()
        try:
            with sync.connect() as conn:
                at_head = head is not None and _revision_of(conn) == head
        except SQLAlchemyError:  # not a database, locked...: the async path says why
            at_head = False
        if at_head:
            return SyncReader(sync)
        sync.dispose()
    return await open_database(url, create_folder=create_folder)


def _sqlite_engine(url: str, *, create_folder: bool) -> Engine | None:
    """A plain SQLite engine for a ``sqlite:///PATH`` url (None for any other)."""
    from sqlalchemy import create_engine

    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return None
    if parsed.get_backend_name() != "sqlite" or "+" in url.split("://", 1)[0]:
        return None
    try:
        _prepare_sqlite_file(parsed.database, create_folder)
    except OSError as exc:
        raise StoreError(f"cannot create database file {parsed.database}: {exc.strerror}") from exc
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _revision_of(conn: Connection) -> str | None:
    """The revision a database is at, by one query (None: none yet)."""
    try:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


async def open_database(url: str, *, create_folder: bool = False) -> Database:
    """:func:`open_store`'s database without the store's table models: what the read-side
    queries need (``status``, ``audit``, ``history``), loaded fast."""
    return Database(await _open(url, migrate=True, create_folder=create_folder))


async def _open(
    url: str,
    *,
    migrate: bool,
    create_folder: bool,
    idle_seconds: float = IDLE_IN_TRANSACTION_SECONDS,
) -> AsyncEngine:
    engine = make_engine(url, create_folder=create_folder, idle_seconds=idle_seconds)
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
    return engine
