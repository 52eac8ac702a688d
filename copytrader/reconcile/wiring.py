"""Builds the reconcile service from settings: the one place adapters are put together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from copytrader.observe.audit import AuditTrail
from copytrader.platform.haas.client import PlatformClient, RequestObserver
from copytrader.reconcile.service import Reconciler
from copytrader.settings import Settings
from copytrader.store.engine import open_store
from copytrader.store.repo import SqlStore


@dataclass
class Service:
    settings: Settings
    platform: PlatformClient
    store: SqlStore
    reconciler: Reconciler


@asynccontextmanager
async def open_store_only(settings: Settings) -> AsyncIterator[SqlStore]:
    """The store alone (for the database-only commands: status, audit, history)."""
    store = await open_store(settings.database_url)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_service(
    settings: Settings, *, observer: RequestObserver | None = None, daemon: bool = False
) -> AsyncIterator[Service]:
    """Platform client, store and reconciler, closed together on exit."""
    store = await open_store(settings.database_url)
    try:
        async with PlatformClient.from_settings(settings.platform, observer=observer) as platform:
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
            )
            yield Service(settings, platform, store, reconciler)
    finally:
        await store.close()
