"""The writer lease: one process at a time may write to the platform.

PostgreSQL: the ``writer_lease`` row is the lease. Its ``expires_at`` is judged on the
database's clock (``now()``), never a client's. It is taken only when expired (the epoch goes
up by one) and renewed only by its holder at its epoch while it has not expired; a renewal that
changes no row means the lease is lost, and the holder steps down (it never takes the lease
back silently). The holder renews over one connection of its own: a renewal that fails (the
session was killed, the database went away) steps down too, and the lease is given up if it
still can be. A local deadline, from ``time.monotonic()`` sampled *before* each renewal is sent,
is never later than the database's expiry: no write is started with less than a third of the
lease left by that deadline.

SQLite: an exclusive ``flock`` on a file beside the database is the lease (the kernel frees it
when the process dies, ``kill -9`` included); the row keeps the holder and the epoch so that
the fencing check (:meth:`copytrader.store.repo.SqlStore.add_pending`) is one for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from copytrader.core.records import Fence
from copytrader.errors import LeaseLostError, StoreError
from copytrader.store.repo import SqlStore, describe_error

log = structlog.get_logger("copytrader.lease")

NAME = "writer"


def new_holder() -> str:
    """``host:pid:random``: this process as a lease holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def short(holder: str) -> str:
    """``host:pid`` of a holder (the random part only tells two lives of one pid apart)."""
    return holder.rsplit(":", 1)[0] if holder.count(":") >= 2 else holder


@dataclass(frozen=True)
class Holding:
    """Who holds the lease, as the database says: ``expires_in`` seconds by its clock
    (None on SQLite, where the lease lasts as long as its holder's lock)."""

    holder: str
    epoch: int
    expires_in: float | None

    def describe(self) -> str:
        """``host:pid`` and, on PostgreSQL, when its lease ends."""
        who = short(self.holder) or "another process"
        if self.expires_in is None:
            return who
        return f"{who} (its lease ends in {max(self.expires_in, 0):.0f} s unless renewed)"


def lock_path(database_url: str) -> Path | None:
    """The lock file beside a SQLite database file (None for memory databases)."""
    url = make_url(database_url)
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return path.with_name(path.name + ".lock")


class WriterLease:
    """This process's side of the writer lease over ``store``."""

    def __init__(
        self,
        store: SqlStore,
        seconds: float,
        *,
        lock_file: Path | None = None,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.seconds = float(seconds)
        self.lock_file = lock_file
        self.holder = holder or new_holder()
        self._clock = clock
        self._fd: int | None = None
        self._conn: AsyncConnection | None = None
        self.epoch: int | None = None
        self.last_epoch: int | None = None  # the epoch of the last time it was held
        self._deadline = 0.0  # monotonic; only meaningful on PostgreSQL
        self.round_trips = 0  # database transactions spent on the lease (the benchmark)
        self.lost_reason = ""  # why the lease was last lost (for the audit event)

    @property
    def postgres(self) -> bool:
        return self.store.dialect == "postgresql"

    @property
    def held(self) -> bool:
        """Whether this process holds the lease (as far as it knows: see :meth:`check`)."""
        return self.epoch is not None

    @property
    def renew_every(self) -> float:
        """Seconds between renewals (a fifth of the lease)."""
        return self.seconds / 5

    def time_left(self) -> float:
        """Seconds until the local deadline (infinite on SQLite while the lock is held)."""
        if not self.held:
            return 0.0
        if not self.postgres:
            return float("inf")
        return self._deadline - self._clock()

    def check(self) -> Fence:
        """The fence for a write about to start; raises LeaseLostError when the lease is not
        held or less than a third of it is left (the write could outlive it)."""
        if self.epoch is None:
            raise LeaseLostError("not sent: this process does not hold the writer lease")
        left = self.time_left()
        if left < self.seconds / 3:
            raise LeaseLostError(
                f"not sent: {max(left, 0):.1f} s of the writer lease left, less than a third"
            )
        return Fence(self.holder, self.epoch)

    # -- taking and giving up ---------------------------------------------------------

    async def try_acquire(self) -> bool:
        """Take the lease if it is free; True when this process holds it now."""
        if self.held:
            return True
        if not self.postgres:
            if not self._lock():
                return False
            try:
                self.epoch = self.last_epoch = await self._take_sqlite()
            except BaseException:
                self._unlock()
                raise
            return True
        return await self._take_postgres()

    def _lock(self) -> bool:
        if self.lock_file is None:
            return True  # a memory database: only this process can see it
        fd = os.open(self.lock_file, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # The holder is written into the lock file at once, so that another process that
        # finds the file locked can name the holder before the row is updated.
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.holder.encode(), 0)
        self._fd = fd
        return True

    def _unlock(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    async def _take_sqlite(self) -> int:
        async with self.store.transaction("take the writer lease") as conn:
            self.round_trips += 1
            await _ensure_row(conn)
            row = (
                await conn.execute(
                    text(
                        "UPDATE writer_lease SET holder = :me, epoch = epoch + 1, "
                        "expires_at = NULL, acquired_at = CURRENT_TIMESTAMP "
                        "WHERE name = :name RETURNING epoch"
                    ),
                    {"me": self.holder, "name": NAME},
                )
            ).one()
        return int(row[0])

    async def _take_postgres(self) -> bool:
        sent = self._clock()
        async with self.store.transaction("take the writer lease") as conn:
            self.round_trips += 1
            await _ensure_row(conn)
            row = (
                await conn.execute(
                    text(
                        "UPDATE writer_lease SET holder = :me, epoch = epoch + 1, "
                        "expires_at = now() + make_interval(secs => :secs), acquired_at = now() "
                        "WHERE name = :name AND (expires_at IS NULL OR expires_at <= now()) "
                        "RETURNING epoch"
                    ),
                    {"me": self.holder, "secs": self.seconds, "name": NAME},
                )
            ).first()
        if row is None:
            return False
        self.epoch = self.last_epoch = int(row[0])
        self._deadline = sent + self.seconds
        try:
            self._conn = await self.store.engine.connect()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("lease connection failed; giving the lease up", error=describe_error(exc))
            await self.release()
            return False
        return True

    async def renew(self) -> bool:
        """Extend the lease; False (and no longer held) when it was lost or could not be
        renewed. On SQLite the lock needs no renewal."""
        if self.epoch is None:
            return False
        if not self.postgres:
            return True
        assert self._conn is not None
        sent = self._clock()
        try:
            async with asyncio.timeout(self.renew_every):
                async with self._conn.begin():
                    self.round_trips += 1
                    result = await self._conn.execute(
                        text(
                            "UPDATE writer_lease SET expires_at = now() + "
                            "make_interval(secs => :secs) WHERE name = :name AND holder = :me "
                            "AND epoch = :epoch AND expires_at > now()"
                        ),
                        {
                            "secs": self.seconds,
                            "name": NAME,
                            "me": self.holder,
                            "epoch": self.epoch,
                        },
                    )
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            self.lost_reason = f"renewal failed: {describe_error(exc)}"
            await self._drop_conn(broken=True)
            await self.release()
            return False
        if result.rowcount != 1:
            self.lost_reason = "taken over: the lease had expired or another process holds it"
            await self._drop_conn()
            self._forget()
            return False
        self._deadline = sent + self.seconds
        return True

    async def release(self) -> None:
        """Give the lease up now (a clean stop, or a step down), so another process can take
        it at once. Never raises: a lease that cannot be given up simply expires."""
        epoch, self.epoch = self.epoch, None
        if epoch is not None and self.postgres:
            with contextlib.suppress(StoreError):
                async with self.store.transaction("give the writer lease up") as conn:
                    self.round_trips += 1
                    await conn.execute(
                        text(
                            "UPDATE writer_lease SET expires_at = now() WHERE name = :name "
                            "AND holder = :me AND epoch = :epoch AND expires_at > now()"
                        ),
                        {"name": NAME, "me": self.holder, "epoch": epoch},
                    )
        await self._drop_conn()
        self._forget()

    async def _drop_conn(self, *, broken: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if broken:
                await conn.invalidate()  # a dead session: no goodbye to send
            await conn.close()

    def _forget(self) -> None:
        self.epoch = None
        self._deadline = 0.0
        self._unlock()

    async def close(self) -> None:
        """Give the lease up (if held) and close the lease connection."""
        await self.release()

    # -- looking ----------------------------------------------------------------------

    async def current(self) -> Holding | None:
        """Who holds the lease now (None: nobody). One round trip."""
        async with self.store.transaction("read the writer lease") as conn:
            self.round_trips += 1
            if self.postgres:
                row = (
                    await conn.execute(
                        text(
                            "SELECT holder, epoch, EXTRACT(EPOCH FROM (expires_at - now())) "
                            "FROM writer_lease WHERE name = :name"
                        ),
                        {"name": NAME},
                    )
                ).first()
                if row is None or row[2] is None or float(row[2]) <= 0:
                    return None
                return Holding(str(row[0]), int(row[1]), float(row[2]))
            row = (
                await conn.execute(
                    text("SELECT holder, epoch FROM writer_lease WHERE name = :name"),
                    {"name": NAME},
                )
            ).first()
        if row is None:
            return None
        if self.held:
            return Holding(self.holder, int(row[1]), None)
        if self.lock_file is None or not _locked_by_other(self.lock_file):
            return None  # nobody holds the lock: the row names the last holder only
        for _ in range(20):  # the holder writes its name right after taking the lock
            with contextlib.suppress(OSError):
                holder = self.lock_file.read_text(encoding="utf-8").strip()
                if holder:
                    epoch = int(row[1]) if row[0] == holder else int(row[1]) + 1
                    return Holding(holder, epoch, None)
            await asyncio.sleep(0.05)
        return Holding(str(row[0]), int(row[1]), None)


def _locked_by_other(path: Path) -> bool:
    """Whether another open file holds the lock on ``path`` (probed without keeping it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


async def _ensure_row(conn: AsyncConnection) -> None:
    """The lease row exists (the migration makes it; a restored table may lack it)."""
    await conn.execute(
        text(
            "INSERT INTO writer_lease (name, holder, epoch) VALUES (:name, '', 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": NAME},
    )
