"""Accepted webhook events on their way: closed trades to the store, bot states to a pass.

The HTTP handler only puts an event in the inbox (a bounded queue) and answers. One task
(:meth:`Inbox.run`) takes events out in batches, finds whose bot each one is about (a
policy's master or a link's clone, read from the store and cached), asks for a pass when a
master or a clone changed state, and records the closed trades in one transaction. The
cache is read again once a pass ended, and whenever an event about a bot it does not know
was accepted after the cache was read: a clone's link is saved before the clone is started,
so a read begun after its event arrived knows it. A master is known once a pass has seen
its policy (each pass snapshots every master), so a closed trade of a bot nobody knows yet
is **parked** (up to :data:`PARK_SECONDS`, at most :data:`PARK_MAX` of them) and looked up
again after each pass: a master's trades from before the first pass, or from before its new
policy file's first pass, are recorded then. A bot-state event of an unknown bot, and a
trade still unknown when it leaves the park, are dropped: they are not copytrader's.

A database failure keeps the batch and retries it with capped backoff; meanwhile the inbox
fills, and a full inbox makes the receiver answer 503 so that the platform delivers again
later. Events still queued at a clean stop are handled first (within a deadline); a kill -9
loses the queue, at most a few milliseconds of deliveries under normal load.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
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
MAX_RETRY_DELAY = 30.0
#: How long and how many closed trades of unknown bots wait for a pass to know them.
PARK_SECONDS = 600.0
PARK_MAX = 10_000
#: How often parked trades are looked at while no event comes.
PARK_POLL = 1.0


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
        # each event with the (monotonic) time it was accepted
        self._queue: asyncio.Queue[tuple[InboundEvent, float]] = asyncio.Queue(capacity)
        self._owners: dict[str, Owner] = {}
        self._read_at: float | None = None
        self._stale = True
        self._parked: deque[tuple[ClosedTrade, float]] = deque()
        self.handled = 0
        self.store_failures = 0  # failed attempts to record trades (each retried)

    @property
    def size(self) -> int:
        """Events accepted and not handled yet."""
        return self._queue.qsize()

    def offer(self, event: InboundEvent) -> bool:
        """Queue ``event`` without waiting; False when the inbox is full."""
        try:
            self._queue.put_nowait((event, self._clock()))
        except asyncio.QueueFull:
            return False
        self._metrics.webhook_queue.set(self._queue.qsize())
        return True

    def invalidate(self) -> None:
        """The masters or links may have changed: read them again first."""
        self._stale = True

    @property
    def parked(self) -> int:
        """Closed trades of unknown bots waiting for a pass to know them."""
        return len(self._parked)

    async def run(self) -> None:
        """Handle events until cancelled."""
        while True:
            batch: list[tuple[InboundEvent, float]] = []
            try:
                # While trades are parked, look at them now and then even without events.
                async with asyncio.timeout(PARK_POLL if self._parked else None):
                    batch.append(await self._queue.get())
            except TimeoutError:
                pass
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

    async def _handle(self, batch: list[tuple[InboundEvent, float]]) -> None:
        owners = await self._lookup(
            [(e.bot_id, at) for e, at in batch if e.kind is not EventKind.IGNORED]
            + [(t.bot_id, at) for t, at in self._parked]
        )
        hint = False
        trades = self._unpark(owners)
        for event, at in batch:
            owner = owners.get(event.bot_id)
            if event.kind is EventKind.IGNORED:
                self._count("ignored")
            elif owner is None and event.trade is not None:
                self._park(event.trade, at)
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

    def _park(self, trade: ClosedTrade, at: float) -> None:
        if len(self._parked) >= PARK_MAX:
            self._parked.popleft()
            self._count("unknown_bot")
        self._parked.append((trade, at))
        self._count("trade_parked")

    def _unpark(self, owners: dict[str, Owner]) -> list[tuple[ClosedTrade, Owner]]:
        """The parked trades whose bots are known now; those parked too long are dropped."""
        known: list[tuple[ClosedTrade, Owner]] = []
        now, kept = self._clock(), deque[tuple[ClosedTrade, float]]()
        for trade, at in self._parked:
            owner = owners.get(trade.bot_id)
            if owner is not None:
                known.append((trade, owner))
            elif now - at > PARK_SECONDS:
                self._count("unknown_bot")
            else:
                kept.append((trade, at))
        self._parked = kept
        return known

    def _count(self, result: str, n: int = 1) -> None:
        if n:
            self._metrics.webhook_handled.labels(result=result).inc(n)

    async def _lookup(self, bots: Collection[tuple[str, float]]) -> dict[str, Owner]:
        """The owners of ``bots`` (each with the time its event was accepted), read again
        when a pass ended since the last read or when one of them is unknown and its event
        came after that read; on a database failure the last ones read."""
        if self._passes() != self._passes_seen:  # a pass ended since: it may have made clones
            self._passes_seen = self._passes()
            self._stale = True
        read_at = self._read_at
        newer = any(b not in self._owners and (read_at is None or at >= read_at)
                    for b, at in bots)
        if bots and (self._stale or newer):
            self._read_at = self._clock()  # before the query: it sees what came before
            try:
                self._owners = await trade_store.owners(self._store)
            except StoreError as exc:
                log.warning("could not read the masters and clones for webhook events",
                            error=str(exc))
                self._read_at = read_at
            else:
                self._stale = False
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
