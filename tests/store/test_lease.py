"""The writer lease against real SQLite files and a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from copytrader.core.records import AuditEvent, Fence
from copytrader.errors import LeaseLostError
from copytrader.reconcile import wiring
from copytrader.secret import Secret
from copytrader.settings import PlatformSettings, Settings
from copytrader.store import engine
from copytrader.store.lease import WriterLease, lock_path
from copytrader.store.repo import SqlStore
from tests.daemon.conftest import wait_for


def _lease(store: SqlStore, url: str, seconds: float = 15, **kw: object) -> WriterLease:
    lock = lock_path(url) if store.dialect == "sqlite" else None
    return WriterLease(store, seconds, lock_file=lock, **kw)  # type: ignore[arg-type]


def _pending(n: int = 0) -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC), run_id="r1", action="clone", outcome="pending", key=f"k{n}"
    )


async def test_one_holder_at_a_time_and_each_takeover_raises_the_epoch(
    store: SqlStore, database_url: str
) -> None:
    other_store = await engine.open_store(database_url)
    try:
        a, b = _lease(store, database_url), _lease(other_store, database_url)
        assert await a.try_acquire() and a.epoch == 1
        assert not await b.try_acquire() and not b.held
        holding = await b.current()
        assert holding is not None and holding.holder == a.holder and holding.epoch == 1
        assert (holding.expires_in is None) == (store.dialect == "sqlite")
        await a.release()
        assert not a.held and await b.current() is None
        assert await b.try_acquire() and b.epoch == 2  # a clean stop: taken over at once
        await b.close()
    finally:
        await other_store.close()


async def test_a_pending_write_is_recorded_only_under_the_current_lease(
    store: SqlStore, database_url: str
) -> None:
    other_store = await engine.open_store(database_url)
    try:
        a, b = _lease(store, database_url), _lease(other_store, database_url)
        assert await a.try_acquire()
        stale = a.check()
        await store.add_pending([_pending(1)], stale)
        await a.release()
        assert await b.try_acquire()
        with pytest.raises(LeaseLostError, match="took the writer lease over"):
            await store.add_pending([_pending(2)], stale)
        with pytest.raises(LeaseLostError):
            a.check()  # and the local check refuses before the database is asked
        await other_store.add_pending([_pending(3)], b.check())
        async with store.engine.connect() as conn:
            keys = await conn.execute(text("SELECT event_key FROM audit_events ORDER BY id"))
            assert keys.scalars().all() == ["k1", "k3"]
        await b.close()
    finally:
        await other_store.close()


async def test_no_write_starts_with_less_than_a_third_of_the_lease_left(
    store: SqlStore, database_url: str
) -> None:
    if store.dialect == "sqlite":
        pytest.skip("on SQLite the lease is an OS lock: it lasts while its holder lives")
    now = [1000.0]
    lease = _lease(store, database_url, seconds=15, clock=lambda: now[0])
    assert await lease.try_acquire()
    assert lease.check() == Fence(lease.holder, 1)
    now[0] += 9.9  # 5.1 s left
    lease.check()
    now[0] += 0.2  # 4.9 s left: less than a third of 15
    with pytest.raises(LeaseLostError, match="less than a third"):
        lease.check()
    assert await lease.renew()  # a renewal restores the local deadline
    assert lease.time_left() == pytest.approx(15)
    await lease.close()


@pytest.mark.postgres
async def test_postgres_expiry_is_judged_on_the_database_clock(
    store: SqlStore, database_url: str
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    other_store = await engine.open_store(database_url)
    try:
        a, b = _lease(store, database_url), _lease(other_store, database_url)
        assert await a.try_acquire()
        # the database's clock says the lease is over (a paused holder), whatever a's says
        async with store.engine.begin() as conn:
            await conn.execute(
                text("UPDATE writer_lease SET expires_at = now() - interval '1 second'")
            )
        with pytest.raises(LeaseLostError, match="expired on the database's clock"):
            await store.add_pending([_pending(1)], a.check())
        assert await b.try_acquire() and b.epoch == 2
        assert not await a.renew()  # the old holder finds out and steps down for good
        assert not a.held and "taken over" in a.lost_reason
        assert not await a.try_acquire()  # it never takes a live lease back
        await b.close()
        await a.close()
    finally:
        await other_store.close()


@pytest.mark.postgres
async def test_postgres_a_killed_lease_session_means_stepping_down(
    store: SqlStore, database_url: str
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    lease = _lease(store, database_url)
    assert await lease.try_acquire()
    async with store.engine.begin() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert not await lease.renew()
    assert "renewal failed" in lease.lost_reason
    other_store = await engine.open_store(database_url)
    try:
        other = _lease(other_store, database_url)
        assert await other.try_acquire()  # given up as it stepped down: no wait for expiry
        await other.close()
    finally:
        await other_store.close()


def test_the_sqlite_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(f"sqlite:///{tmp_path}/a/ct.db") == tmp_path / "a" / "ct.db.lock"
    assert lock_path("sqlite:///:memory:") is None


@pytest.mark.postgres
async def test_postgres_a_writer_paused_in_its_fenced_transaction_holds_up_no_takeover(
    store: SqlStore, database_url: str, tmp_path: Path
) -> None:
    """A leader paused (SIGSTOP, a stalled VM) inside the transaction that fences its pending
    events holds the lease row ``FOR SHARE``; the successor's takeover waits for that lock.
    The server ends such a session once it has been idle in its transaction for the lease's
    length (the writer's store is opened so, from the settings), so the takeover goes ahead
    and the paused transaction, ended, can commit nothing."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    seconds = 2
    settings = Settings(
        platform=PlatformSettings(api_url="http://127.0.0.1:9", api_key=Secret("k")),
        database_url=database_url,
        policy_dir=tmp_path,
        lease_seconds=seconds,
    )
    writer = await wiring.open_store(settings)
    standby = await engine.open_store(database_url)
    try:
        async with writer.engine.connect() as conn:
            shown = (await conn.execute(text("SHOW idle_in_transaction_session_timeout"))).scalar()
        assert shown == f"{seconds}s"
        a, b = _lease(writer, database_url, seconds), _lease(standby, database_url, seconds)
        assert await a.try_acquire()
        paused = await writer.engine.connect()
        await paused.begin()
        await paused.execute(text("SELECT epoch FROM writer_lease FOR SHARE"))
        # ... and the process stops here. The standby keeps trying (each try waits for the row
        # lock at most lock_timeout) until the server ends the paused session.
        assert await wait_for(b.try_acquire, "the standby takes the lease", every=0.5)
        assert b.epoch == 2
        with pytest.raises(DBAPIError):
            await paused.execute(text("UPDATE writer_lease SET holder = 'paused'"))
        await paused.close()
        async with standby.engine.connect() as conn:
            holder = (await conn.execute(text("SELECT holder FROM writer_lease"))).scalar()
        assert holder == b.holder
        await b.close()
        await a.close()
    finally:
        await writer.close()
        await standby.close()
