"""The daemon's notification task: while this process leads, deliver the outbox.

It runs beside the passes and never holds one up: it wakes when a pass ends (new
notifications are likely) and otherwise every :data:`POLL` seconds, sends what is due, and
keeps the backlog metrics current (a standby reports the backlog too: it reads the same
database). A database failure is logged and tried again on the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog

from copytrader.errors import CopytraderError
from copytrader.notify.sender import BATCH, Sender

log = structlog.get_logger("copytrader.notify")

POLL = 2.0
#: How often the backlog is read for the metrics.
BACKLOG_EVERY = 5.0


class DeliveryLoop:
    """Runs ``sender`` while ``leading()``, until ``stopping()``."""

    def __init__(
        self, sender: Sender, *, leading: Callable[[], bool], stopping: Callable[[], bool]
    ) -> None:
        self.sender = sender
        self._leading = leading
        self._stopping = stopping
        self._wake = asyncio.Event()
        self._backlog_at = 0.0

    def wake(self) -> None:
        """Look at the outbox now (a pass just ended)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while not self._stopping():
                self._wake.clear()  # a wake during this round makes the next one at once
                busy = False
                try:
                    if self._leading():
                        busy = await self.sender.once() >= BATCH
                    if time.monotonic() - self._backlog_at >= BACKLOG_EVERY or busy:
                        self._backlog_at = time.monotonic()
                        await self.sender.backlog()
                except CopytraderError as exc:
                    log.warning("notification delivery round failed", error=str(exc))
                if busy:
                    continue  # more are due now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL)
        finally:
            await self.sender.close()
