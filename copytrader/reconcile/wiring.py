"""Builds the reconcile service from settings: the one place adapters are put together.

The adapters are imported inside the functions that need them: a database-only command
(``status``, ``audit``) opens the store without loading the platform client (aiohttp), the
reconciler or structlog's set-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from copytrader.errors import LeaseHeldError

if TYPE_CHECKING:
    from copytrader.core import notices
    from copytrader.platform.adapters import Adapter
    from copytrader.platform.transport import RequestObserver
    from copytrader.reconcile.service import Reconciler
    from copytrader.settings import Settings
    from copytrader.store.database import Reader
    from copytrader.store.lease import WriterLease
    from copytrader.store.repo import SqlStore


@dataclass
class Service:
    settings: Settings
    platform: Adapter
    store: SqlStore
    reconciler: Reconciler
    lease: WriterLease


def notify_filter(settings: Settings) -> notices.Filter | None:
    """The audit events that get a notification, when this process has a sink (else None:
    no notification is written, so none waits for a sink that is not there)."""
    from copytrader.core import notices

    n = settings.notify
    return notices.Filter(n.events) if n.enabled else None


def writer_lease(settings: Settings, store: SqlStore) -> WriterLease:
    """The writer lease of the database in ``settings`` (not taken yet)."""
    from copytrader.store.lease import WriterLease, lock_path

    lock_file = lock_path(settings.database_url) if store.dialect == "sqlite" else None
    return WriterLease(store, settings.lease_seconds, lock_file=lock_file)


async def open_store(settings: Settings) -> SqlStore:
    """The store of ``settings``, its schema at head; the default SQLite folder is created
    (0700) when missing, a folder the user named must exist (ConfigError naming it). On
    PostgreSQL a session idle inside a transaction for the lease's length is ended: a writer
    paused there delays its successor's takeover by at most that."""
    from copytrader.store import engine

    return await engine.open_store(
        settings.database_url,
        notify=notify_filter(settings),
        create_folder=settings.database_is_default,
        idle_seconds=min(engine.IDLE_IN_TRANSACTION_SECONDS, float(settings.lease_seconds)),
    )


@asynccontextmanager
async def open_reader(settings: Settings) -> AsyncIterator[Reader]:
    """The database alone, for the read-side queries of the database-only commands
    (``status``, ``audit``, ``history``): neither the store's table models nor (on SQLite)
    the async machinery are loaded."""
    from copytrader.store import engine

    db = await engine.open_reader(
        settings.database_url, create_folder=settings.database_is_default
    )
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_store_only(settings: Settings) -> AsyncIterator[SqlStore]:
    """The store alone (for the database-only commands: status, audit, history)."""
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_service(
    settings: Settings, *, observer: RequestObserver | None = None, daemon: bool = False
) -> AsyncIterator[Service]:
    """Platform client, store and reconciler, closed together on exit."""
    from copytrader.observe.audit import AuditTrail
    from copytrader.platform import adapters
    from copytrader.reconcile.service import Reconciler

    store = await open_store(settings)
    try:
        async with adapters.from_settings(settings.platform, observer=observer) as platform:
            lease = writer_lease(settings, store)
            # Checked again just before each write leaves (after any rate-limit wait).
            platform.guard_writes(lambda: lease.check().stamp())
            reconciler = Reconciler(
                platform,
                store,
                settings.policy_dir,
                lambda run_id: AuditTrail(store, run_id),
                concurrency=settings.platform.concurrency,
                keep_last_good=daemon,
                # a timed-out clone may still be made by the platform for about as long
                # as we waited for it; twice that, to be safe
                clone_pending_seconds=2 * settings.platform.timeout_seconds,
                lease=lease,
            )
            try:
                yield Service(settings, platform, store, reconciler, lease)
            finally:
                await lease.close()
    finally:
        await store.close()


@asynccontextmanager
async def open_writer(
    settings: Settings,
    *,
    wait: float = 0.0,
    observer: RequestObserver | None = None,
    daemon: bool = False,
) -> AsyncIterator[Service]:
    """:func:`open_service` holding the writer lease throughout (renewed in the background,
    given up on exit): for one-shot writers such as ``reconcile``. Raises LeaseHeldError
    naming the holder when the lease is not free within ``wait`` seconds."""
    from copytrader.reconcile.leadership import Leadership

    async with open_service(settings, observer=observer, daemon=daemon) as svc:
        leader = Leadership(
            svc.lease, svc.store, clone_pending_seconds=svc.reconciler.clone_pending_seconds
        )
        if not await leader.wait_for(wait):
            holding = await leader.holder()
            who = holding.describe() if holding else "another copytrader process"
            raise LeaseHeldError(f"the writer lease is held by {who}; nothing was done")
        keeper = asyncio.create_task(leader.keep())
        try:
            yield svc
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await leader.give_up()
