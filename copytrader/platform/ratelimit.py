"""The client-side limiter every request of one client passes through.

Three limits, checked just before a request is sent:

- a **sliding window**: at most ``limit`` sends in any ``window`` seconds. The limiter keeps
  the start times of the last ``limit`` sends; a new send waits until the oldest of them is
  a full window old. This holds for *every* window, which a token bucket refilling at
  ``limit/window`` does not (it allows a full burst plus the refill inside one window);
- a **concurrency cap**: at most ``concurrency`` requests in flight;
- a shared **block**: a 429's Retry-After moves "blocked until" forward, and every request
  queued or about to be resent waits for it. The transport sets it the moment the 429's
  status line arrives, before it reads the body, and measures it from then: a request let
  through after that moment leaves no earlier than the answer's arrival plus Retry-After.
  Requests let through before it were already on their way (in flight).

Requests waiting for any of the three leave **most urgent first**, then first come, first
served: a request's urgency is :data:`URGENCY` in the task that sends it (lower goes first;
the reconcile executor sets it from :mod:`copytrader.core.urgency`, so a stop waiting for the
window or a free place leaves before an edit or a clone that waited longer). The choice is
made at each send, so an urgent request that arrives while another sleeps for the window
still goes first.

Clock and sleep are injected so tests can run minutes of traffic in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: The urgency of the requests the current task sends (lower leaves first; 0 by default, so
#: a request nobody ranked is never held behind ranked ones).
URGENCY: contextvars.ContextVar[int] = contextvars.ContextVar("copytrader_urgency", default=0)


class Admission(NamedTuple):
    """A request let through: ``at`` is the limiter's clock when it was (its send, as far as
    the limits go: nothing of the request leaves before), ``waited`` the seconds it waited
    for the window or a block (not for a place in flight)."""

    at: float
    waited: float


@dataclass(order=True)
class _Waiter:
    """A request waiting to be sent: ordered by urgency, then arrival."""

    urgency: int
    seq: int
    turn: asyncio.Event = field(compare=False, default_factory=asyncio.Event)


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
        # Requests not yet sent, most urgent first, then first come: only the head may send.
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._sleeping = False  # the head is sleeping for the window or a block
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

    def block_for(self, seconds: float) -> float:
        """Send nothing for ``seconds`` from now (a 429's Retry-After); never shortens a block.
        Returns now, the limiter's clock the block is measured from."""
        now = self._clock()
        self._blocked_until = max(self._blocked_until, now + max(seconds, 0.0))
        return now

    def _ready_at(self, now: float) -> float:
        ready = self._blocked_until
        if self.limit is not None and len(self._sends) >= self.limit:
            ready = max(ready, self._sends[0] + self.window)
        return ready

    async def _admit(self, urgency: int) -> Admission:
        """Wait for a place in flight, the window and the block, behind every more urgent
        (or as urgent and earlier) waiting request; record the send and take the place."""
        arrived = self._clock()
        me = _Waiter(urgency, next(self._seq))
        heapq.heappush(self._waiting, me)
        held_up = False
        capped = 0.0  # seconds this request, at the head, waited for a place in flight only
        try:
            while True:
                me.turn.clear()
                if self._waiting[0] is not me or self._sleeping:
                    held_up = held_up or self._sleeping
                    await me.turn.wait()  # set when this one may be the next to try
                    continue
                if self._in_flight >= self.concurrency:
                    since = self._clock()
                    await me.turn.wait()  # set when a request in flight finishes
                    capped += self._clock() - since
                    continue
                now = self._clock()
                ready = self._ready_at(now)
                if ready <= now:
                    break
                held_up = True
                # One sleeper at a time, the head. Re-check after sleeping: a 429 may have
                # moved the block, and a more urgent request may have arrived meanwhile
                # (then it tries first and this one waits for its turn again).
                self._sleeping = True
                try:
                    await self._sleep(ready - now)
                finally:
                    self._sleeping = False
                if self._waiting[0] is not me:
                    self._waiting[0].turn.set()
        except BaseException:
            self._leave(me)
            raise
        self._in_flight += 1
        self._leave(me)
        self._sends.append(now)
        self.sent += 1
        waited = max(now - arrived - capped, 0.0) if held_up else 0.0
        self.waited += waited
        return Admission(now, waited)

    def _leave(self, waiter: _Waiter) -> None:
        """Take ``waiter`` out of the queue and tell the new head it may try."""
        if self._waiting and self._waiting[0] is waiter:
            heapq.heappop(self._waiting)
        else:
            self._waiting.remove(waiter)
            heapq.heapify(self._waiting)
        self._wake_head()

    def _wake_head(self) -> None:
        if self._waiting:
            self._waiting[0].turn.set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Admission]:
        """Hold one request's place in flight while it is sent and answered; yields its
        :class:`Admission`. Its place in the queue is the current task's :data:`URGENCY`.
        The caller sends at once (no await in between), so that a block that a 429 sets
        after this moment finds the request already on its way, never about to leave."""
        admitted = await self._admit(URGENCY.get())
        try:
            yield admitted
        finally:
            self._in_flight -= 1
            self._wake_head()
