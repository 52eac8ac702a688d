"""Running reconcile passes one at a time, and what the daemon remembers about them.

:class:`PassRunner` is the one door to ``Reconciler.run_pass`` in the daemon. An
:class:`asyncio.Lock` keeps two passes from ever overlapping; a trigger that arrives during a
pass (a policy edit, SIGHUP) queues exactly one more pass after it, while an interval tick
during a pass is simply dropped (the pass in progress already re-reads everything).
It also keeps the backoff state: consecutive aborted passes (the platform unreachable)
stretch the schedule, capped, and the first pass that reads the platform resets it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from copytrader.core import words
from copytrader.reconcile.service import PassResult, Reconciler

log = structlog.get_logger("copytrader.daemon")

#: The longest wait between passes while the platform stays unreachable.
MAX_BACKOFF_SECONDS = 300.0


def backoff_delay(interval: float, aborts: int, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds until the next scheduled pass after ``aborts`` aborted passes in a row.

    The interval itself for 0 or 1 abort, then doubling, never above ``max(cap, interval)``.
    """
    if aborts <= 1:
        return interval
    return max(interval, min(cap, interval * 2.0 ** (aborts - 1)))


@dataclass(frozen=True)
class Finished:
    """One finished pass as the daemon saw it (monotonic times)."""

    reason: str  # what asked for it: "interval", "policy change", "reload", or several
    result: PassResult | None  # None: the pass raised (a database failure, a bug)
    state: str  # the result's state, or "error"
    error: str | None
    started: float
    ended: float
    wall_ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started


AfterPass = Callable[[Finished, int], Awaitable[None]]


class PassRunner:
    """Runs passes through one lock; ``after`` is awaited after each one (metrics, STATUS)."""

    def __init__(
        self,
        reconciler: Reconciler,
        *,
        stopping: Callable[[], bool],
        after: AfterPass,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reconciler = reconciler
        self._stopping = stopping
        self._after = after
        self._clock = clock
        self._lock = asyncio.Lock()
        self._again: set[str] = set()
        self._task: asyncio.Task[object] | None = None
        self.created = clock()
        self.running_since: float | None = None
        self.last: Finished | None = None
        self.last_good: Finished | None = None  # the newest pass that read the platform
        self.consecutive_aborts = 0
        self.count = 0

    @property
    def busy(self) -> bool:
        """True while a pass runs."""
        return self._lock.locked()

    async def request(self, reason: str, *, queue: bool) -> None:
        """Run a pass now and return when it (and any queued after it) is done.

        When a pass is already running this returns at once: with ``queue`` one more pass
        is run after the current one (several such requests still make one), else nothing.
        """
        if self._lock.locked():
            if queue:
                self._again.add(reason)
            return
        async with self._lock:
            self._task = asyncio.current_task()
            try:
                reasons = {reason}
                while reasons and not self._stopping():
                    self._again = set()
                    await self._one(" + ".join(sorted(reasons)))
                    reasons = self._again
            finally:
                self._task = None
                self._again = set()

    def cancel(self) -> None:
        """Cancel the running pass at once (a second stop signal)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _one(self, reason: str) -> None:
        started = self._clock()
        self.running_since = started
        log.info("pass starting", reason=reason)
        result: PassResult | None = None
        error: str | None = None
        try:
            result = await self.reconciler.run_pass(stopping=self._stopping)
        except Exception as exc:  # a database failure or a bug: log it, the daemon goes on
            log.exception("pass failed", reason=reason)
            error = str(exc) or type(exc).__name__
        finally:
            self.running_since = None
        state = result.state if result is not None else "error"
        finished = Finished(reason, result, state, result.error if result is not None else error,
                            started, self._clock(), time.time())
        self.count += 1
        self.last = finished
        if state in ("aborted", "error"):
            self.consecutive_aborts += 1
        else:
            self.consecutive_aborts = 0
            self.last_good = finished
        try:
            await self._after(finished, self.consecutive_aborts)
        except Exception:  # bookkeeping (metrics, STATUS) must not end the pass loop
            log.exception("after-pass bookkeeping failed", run_id=finished.result
                          and finished.result.run_id)

    async def drain(self, deadline: float) -> bool:
        """Wait up to ``deadline`` seconds for the running pass; cancel it past that.

        Returns True when it finished by itself. Call after ``stopping`` turned True, so no
        new pass starts.
        """
        if not self._lock.locked():
            return True
        try:
            async with asyncio.timeout(deadline):
                async with self._lock:
                    return True
        except TimeoutError:
            task = self._task
            if task is not None and not task.done():
                log.warning("pass still running at the shutdown deadline; cancelling it",
                            timeout_seconds=deadline)
                task.cancel()
                # The task may belong to the scheduler (which then reports it); just wait.
                await asyncio.wait({task}, timeout=5.0)
            return False

    def summary(self, interval: float) -> str:
        """A one-line STATUS text about the last pass (and the backoff, if any)."""
        f = self.last
        if f is None:
            return "running; no pass finished yet"
        at = time.strftime("%H:%M:%SZ", time.gmtime(f.wall_ended))
        if f.result is None:
            return f"last pass at {at} errored: {_short(f.error)}"
        r = f.result
        if r.state == "aborted":
            wait = backoff_delay(interval, self.consecutive_aborts)
            return (f"last pass aborted at {at} ({self.consecutive_aborts} in a row, next in "
                    f"{wait:.0f} s): {_short(r.error)}")
        failed = sum(1 for o in r.outcomes if not o.ok)
        invalid = len({p.file for p in r.problems})
        text = (f"last pass {r.state} at {at}: {words.plural(len(r.outcomes), 'action')}, "
                f"{failed} failed, {words.plural(r.requests, 'request')}, {f.seconds:.1f} s")
        if invalid:
            text += f", {words.plural(invalid, 'invalid policy file')}"
        return text


def _short(text: str | None, limit: int = 160) -> str:
    text = (text or "unknown error").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
