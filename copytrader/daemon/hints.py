"""Pass hints: "something changed on the platform, look soon" (a webhook's bot event).

A hint is level-triggered: it never says what to do, only that a pass is worth running
now rather than at the next tick. A burst of hints makes one pass: the first hint waits
:data:`SETTLE` seconds for the rest of its burst, then asks the pass runner, which runs a
pass at once or, when one is running, exactly one more after it (hints during a pass all
fold into that one). A hinted pass starts no sooner than :data:`GAP` seconds after the
previous pass ended, so a bot flapping between error and running cannot keep the daemon
passing back to back. Scheduled passes keep their timetable; hints only add passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

#: Seconds the first hint of a burst waits for the others.
SETTLE = 0.2
#: Least seconds between the end of a pass and a hinted pass.
GAP = 0.5


class PassHints:
    """Turns hints into at most one pass request per burst.

    ``request`` runs a pass (or queues one after the running pass); ``last_end`` is the
    monotonic time the last pass ended (None: none yet); ``spawn`` runs a coroutine as a
    task the daemon cancels at stop.
    """

    def __init__(
        self,
        request: Callable[[], Awaitable[None]],
        last_end: Callable[[], float | None],
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        *,
        settle: float = SETTLE,
        gap: float = GAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._request = request
        self._last_end = last_end
        self._spawn = spawn
        self._settle = settle
        self._gap = gap
        self._clock = clock
        self._waiting = False
        self.hints = 0
        self.requests = 0

    def hint(self) -> None:
        """Something changed: a pass soon (one for the whole burst)."""
        self.hints += 1
        if self._waiting:
            return  # the burst's request is still to come and covers this hint
        self._waiting = True
        self._spawn(self._fire())

    def delay(self) -> float:
        """Seconds the next request waits: the settle time, longer inside the gap."""
        ended = self._last_end()
        wait = self._settle
        if ended is not None:
            wait = max(wait, ended + self._gap - self._clock())
        return wait

    async def _fire(self) -> None:
        try:
            await asyncio.sleep(self.delay())
        finally:
            # From here on a new hint needs a request of its own: this one may find a pass
            # running that read the platform before the hint's change.
            self._waiting = False
        self.requests += 1
        await self._request()
