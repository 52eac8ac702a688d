"""Accepted webhook events on their way: closed trades to the store, bot states to a pass.

The HTTP handler only puts an event in the inbox (a bounded queue) and answers. One task
(:meth:`Inbox.run`) takes events out in batches, finds whose bot each one is about (a
policy's master or a link's clone, read from the store, cached, and read again once a pass
ended and when a bot it does not know shows up, at most once a second), asks for a pass when
a master or a clone changed state, and records the closed trades in one transaction.
Events about other bots are dropped: they are not copytrader's.

A database failure keeps the batch and retries it with capped backoff; meanwhile the inbox
fills, and a full inbox makes the receiver answer 503 so that the platform delivers again
later. Events still queued at a clean stop are handled first (within a deadline); a kill -9
loses the queue, at most a few milliseconds of deliveries under normal load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime

import structlog

from copytrader.core.events import ClosedTrade, EventKind, InboundEvent
from copytrader.daemon.metrics import Metrics
from copytrader.errors import StoreError
from copytrader.store import trades as trade_store
from copytrader.store.repo import SqlStore
from copytrader.store.trades import Owner

log = structlog.get_logger("copytrader.daemon")

CAPACITY = 10_000
BATCH = 500
#: The least time between two reads of the bot owners caused by unknown bots.
REFRESH_EVERY = 1.0
MAX_RETRY_DELAY = 30.0


class Inbox:
    """The queue between the webhook route and the store and pass runner."""

    def __init__(
        self,
        store: SqlStore,
        hint: Callable[[], None],
        metrics: Metrics,
        *,
        passes: Callable[[], int] = lambda: 0,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._passes = passes
        self._passes_seen = -1
        self._hint = hint
        self._metrics = metrics
        self._clock = clock
        self._queue: asyncio.Queue[InboundEvent] = asyncio.Queue(capacity)
        self._owners: dict[str, Owner] = {}
        self._read_at: float | None = None
        self._stale = True
        self.handled = 0
        self.store_failures = 0  # failed attempts to record trades (each retried)

    @property
    def size(self) -> int:
        """Events accepted and not handled yet."""
        return self._queue.qsize()

    def offer(self, event: InboundEvent) -> bool:
        """Queue ``event`` without waiting; False when the inbox is full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        self._metrics.webhook_queue.set(self._queue.qsize())
        return True

    def invalidate(self) -> None:
        """The masters or links may have changed: read them again first."""
        self._stale = True

    async def run(self) -> None:
        """Handle events until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._handle(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
                self.handled += len(batch)
                self._metrics.webhook_queue.set(self._queue.qsize())

    async def drain(self, *, within: float) -> int:
        """Wait up to ``within`` seconds for the queued events to be handled (while
        :meth:`run` runs); the number still queued after that."""
        try:
            async with asyncio.timeout(within):
                await self._queue.join()
        except TimeoutError:
            log.warning("webhook events left unhandled at stop", count=self._queue.qsize())
        return self._queue.qsize()

    async def _handle(self, batch: list[InboundEvent]) -> None:
        owners = await self._lookup({e.bot_id for e in batch if e.kind is not EventKind.IGNORED})
        hint = False
        trades: list[tuple[ClosedTrade, Owner]] = []
        for event in batch:
            owner = owners.get(event.bot_id)
            if event.kind is EventKind.IGNORED:
                self._count("ignored")
            elif owner is None:
                self._count("unknown_bot")
            elif event.kind is EventKind.BOT_STATE:
                hint = True
                self._count("pass_requested")
            elif event.trade is not None:
                trades.append((event.trade, owner))
        if hint:
            self._hint()
        if trades:
            changed = await self._record(trades)
            self._count("trade_recorded", changed)
            self._count("trade_unchanged", len(trades) - changed)

    def _count(self, result: str, n: int = 1) -> None:
        if n:
            self._metrics.webhook_handled.labels(result=result).inc(n)

    async def _lookup(self, bots: Collection[str]) -> dict[str, Owner]:
        """The owners, read again when stale or when a bot is unknown (at most once a
        second for that); on a database failure the last ones read."""
        if self._passes() != self._passes_seen:  # a pass ended since: it may have made clones
            self._passes_seen = self._passes()
            self._stale = True
        unknown = any(b not in self._owners for b in bots)
        now = self._clock()
        due = self._read_at is None or now - self._read_at >= REFRESH_EVERY
        if bots and (self._stale or (unknown and due)):
            try:
                self._owners = await trade_store.owners(self._store)
            except StoreError as exc:
                log.warning("could not read the masters and clones for webhook events",
                            error=str(exc))
            else:
                self._stale = False
            self._read_at = now
        return self._owners

    async def _record(self, trades: list[tuple[ClosedTrade, Owner]]) -> int:
        """Record ``trades``, retrying a database failure until it works (or the task is
        cancelled at stop); how many rows changed."""
        delay = 0.5
        while True:
            try:
                return await trade_store.record(self._store, trades, datetime.now(UTC))
            except StoreError as exc:
                self.store_failures += 1
                log.warning("could not record webhook trades; retrying", error=str(exc),
                            trades=len(trades), retry_in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
