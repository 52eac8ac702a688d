"""Webhook delivery: the platform POSTs each account's events to that account's URL.

One JSON event per request, ``{"event", "timestamp", "data": {"bot_id", ...}}``, at least
once: a delivery that fails (no answer, or not 2xx) is sent again with capped, jittered
backoff, up to ``max_attempts``. The platform promises no order and signs nothing; fault
rules on the path ``webhook`` (:mod:`copytrader.sim.faults`) make it visible: ``duplicate``
sends an event twice, ``reorder`` holds an event back and sends it after the next one (or
after ``hold`` seconds when no other comes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

import aiohttp
import structlog

from copytrader.sim.botprimex.state import BpxState, Event
from copytrader.sim.faults import WEBHOOK_PATH

log = structlog.get_logger("copytrader.sim.webhooks")


class Deliverer:
    """Sends ``state``'s queued events; :meth:`run` until cancelled."""

    def __init__(
        self,
        state: BpxState,
        *,
        max_attempts: int = 12,
        base: float = 0.2,
        cap: float = 10.0,
        timeout: float = 5.0,
        hold: float = 2.0,
        concurrency: int = 4,
    ) -> None:
        self.state = state
        self.max_attempts = max_attempts
        self.base = base
        self.cap = cap
        self.timeout = timeout
        self.hold = hold
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._held: Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random(0)
        state.on_event = self._wake.set

    async def run(self) -> None:
        """Deliver events as they are queued, until cancelled."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as s:
            try:
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.hold)
                    self._wake.clear()
                    self._drain(s)
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _drain(self, session: aiohttp.ClientSession) -> None:
        events = self.state.events
        if not events and self._held is not None:  # nothing came after it: send it now
            held, self._held = self._held, None
            self._spawn(session, held)
        while events:
            event = events.popleft()
            fault = self.state.faults.take(WEBHOOK_PATH, account=event.account)
            kind = fault.kind if fault is not None else None
            if kind == "reorder" and self._held is None:
                self._held = event
                continue
            self._spawn(session, event)
            if kind == "duplicate":
                self._spawn(session, event)
            if self._held is not None:
                held, self._held = self._held, None
                self._spawn(session, held)

    def _spawn(self, session: aiohttp.ClientSession, event: Event) -> None:
        task = asyncio.create_task(self._deliver(session, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, session: aiohttp.ClientSession, event: Event) -> None:
        account = self.state.accounts.get(event.account)
        url = account.webhook_url if account is not None else None
        if not url:
            return
        body = json.dumps(event.body).encode()
        for attempt in range(1, self.max_attempts + 1):
            status = 0
            async with self._slots:
                try:
                    async with session.post(
                        url, data=body, headers={"Content-Type": "application/json"}
                    ) as resp:
                        status = resp.status
                        await resp.read()
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
            self.state.deliveries.append(
                {
                    "event": event.body,
                    "account": event.account,
                    "url": url,
                    "status": status,
                    "attempt": attempt,
                }
            )
            if 200 <= status < 300:
                return
            ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
            await asyncio.sleep(self._rng.uniform(ceiling / 2, ceiling))
        log.warning(
            "webhook not delivered",
            event=event.body.get("event"),
            account=event.account,
            attempts=self.max_attempts,
        )
