"""The client-side limiter every request of one client passes through.

Three limits, checked just before a request is sent:

- a **sliding window**: at most ``limit`` sends in any ``window`` seconds. The limiter keeps
  the start times of the last ``limit`` sends; a new send waits until the oldest of them is
  a full window old. This holds for *every* window, which a token bucket refilling at
  ``limit/window`` does not (it allows a full burst plus the refill inside one window);
- a **concurrency cap**: at most ``concurrency`` requests in flight;
- a shared **block**: a 429's Retry-After moves "blocked until" forward, and every request
  queued or about to be resent waits for it.

Clock and sleep are injected so tests can run minutes of traffic in milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Admits requests under a sliding-window rate, a concurrency cap and a shared block."""

    def __init__(
        self,
        limit: int | None,
        *,
        window: float = 60.0,
        concurrency: int = 8,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 (or None for no rate limit)")
        if window <= 0 or concurrency < 1:
            raise ValueError("window must be positive and concurrency at least 1")
        self.limit = limit
        self.window = window
        self.concurrency = concurrency
        self._clock = clock
        self._sleep = sleep
        self._sends: deque[float] = deque(maxlen=limit)
        self._semaphore = asyncio.Semaphore(concurrency)
        # One admission at a time, in arrival order: waiters are served first come, first out.
        self._gate = asyncio.Lock()
        self._blocked_until = float("-inf")
        self._in_flight = 0
        #: Requests admitted (sent) so far.
        self.sent = 0
        #: Seconds spent waiting for the window or a Retry-After block, summed over requests.
        self.waited = 0.0

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet finished."""
        return self._in_flight

    @property
    def blocked_until(self) -> float:
        """The clock time before which nothing is sent (after a 429)."""
        return self._blocked_until

    def set_limit(self, limit: int | None) -> None:
        """Change the window's limit (an account's plan, learnt after its first request);
        the sends already in the window keep counting."""
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 (or None for no rate limit)")
        self.limit = limit
        self._sends = deque(self._sends, maxlen=limit)

    def block_for(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (a 429's Retry-After); never shortens a block."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(seconds, 0.0))

    def _ready_at(self, now: float) -> float:
        ready = self._blocked_until
        if self.limit is not None and len(self._sends) >= self.limit:
            ready = max(ready, self._sends[0] + self.window)
        return ready

    async def _admit(self) -> float:
        """Wait for the window and the block; record the send. Returns the seconds waited."""
        arrived = self._clock()
        # Queueing on the gate counts as waiting too: the gate is only ever held for long by
        # a request sleeping for the window or a block.
        held_up = self._gate.locked()
        async with self._gate:
            while True:
                now = self._clock()
                ready = self._ready_at(now)
                if ready <= now:
                    break
                held_up = True
                # Re-check after sleeping: a 429 may have moved the block meanwhile.
                await self._sleep(ready - now)
            self._sends.append(now)
            self.sent += 1
            waited = max(now - arrived, 0.0) if held_up else 0.0
            self.waited += waited
        return waited

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold one request's slot while it is in flight; yields the seconds it waited."""
        async with self._semaphore:
            waited = await self._admit()
            self._in_flight += 1
            try:
                yield waited
            finally:
                self._in_flight -= 1
