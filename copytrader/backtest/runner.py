"""Running a set of backtests on the platform: start, poll, fetch, and cancel on request.

At most ``parallel`` backtests run at once; each is polled every ``poll`` seconds (the
client's rate limiter is the ceiling on top) and cancelled on the platform when it has not
finished within ``timeout`` seconds. A backtest that fails, is cancelled by someone
else, or cannot be started or read ends as its own :class:`Outcome`; the others go on. When
``stop`` is set (Ctrl-C), nothing new starts and every backtest still running is cancelled
on the platform (each cancel bounded by ``cancel_timeout``) before :func:`run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from copytrader.backtest.ports import Backtester
from copytrader.core import backtest as core
from copytrader.errors import PlatformError

#: Called with a job's index and each status read (for the progress display).
OnStatus = Callable[[int, core.Status], None]
INTERRUPTED = "interrupted (Ctrl-C)"


class Runner:
    """One run of several backtests (see the module docstring)."""

    def __init__(
        self,
        backtester: Backtester,
        *,
        parallel: int,
        poll: float,
        stop: asyncio.Event,
        on_status: OnStatus = lambda i, s: None,
        cancel_timeout: float = 15.0,
        timeout: float | None = None,
    ) -> None:
        """``timeout``: seconds a backtest may take before it is cancelled on the platform
        and reported as timed out (None: no limit)."""
        self.backtester = backtester
        self.timeout = timeout
        self.poll = poll
        self.stop = stop
        self.on_status = on_status
        self.cancel_timeout = cancel_timeout
        self._slots = asyncio.Semaphore(parallel)
        #: backtest id -> True once it is known to have ended (or been cancelled)
        self.started: dict[str, bool] = {}
        #: backtests this run cancelled on the platform
        self.cancelled: list[str] = []

    @property
    def still_running(self) -> list[str]:
        """Backtests started and not known to have ended: they may still run."""
        return [b for b, done in self.started.items() if not done]

    async def run(self, jobs: Sequence[tuple[core.Variant, core.Request]]) -> list[core.Outcome]:
        """Every job's outcome, in order."""
        return list(
            await asyncio.gather(*(self._one(i, v, r) for i, (v, r) in enumerate(jobs)))
        )

    async def _one(self, index: int, variant: core.Variant, request: core.Request) -> core.Outcome:
        async with self._slots:
            if self.stop.is_set():
                self.on_status(index, core.Status("", core.State.CANCELLED, 0, "not started"))
                return core.Outcome(variant, None, core.State.CANCELLED, error=INTERRUPTED)
            try:
                backtest_id = await self.backtester.start(request)
            except PlatformError as exc:
                return core.Outcome(variant, None, core.State.FAILED, error=f"not started: {exc}")
            self.started[backtest_id] = False
            outcome = await self._follow(index, variant, backtest_id)
            if self.stop.is_set() and not self.started[backtest_id]:
                await self._cancel(backtest_id)
                why = "on Ctrl-C" if self.started[backtest_id] else "on Ctrl-C, unconfirmed"
                self.on_status(index, core.Status(backtest_id, core.State.CANCELLED, 0, why))
            return outcome

    async def _follow(self, index: int, variant: core.Variant, backtest_id: str) -> core.Outcome:
        status = core.Status(backtest_id, core.State.LOADING_SCRIPT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout if self.timeout is not None else None
        while not self.stop.is_set():
            if deadline is not None and loop.time() > deadline:
                await self._cancel(backtest_id)
                why = f"no result after {self.timeout:g} s: cancelled on the platform"
                self.on_status(index, core.Status(backtest_id, core.State.CANCELLED, 0, why))
                return core.Outcome(variant, backtest_id, core.State.CANCELLED, error=why)
            try:
                status = await self.backtester.status(backtest_id)
            except PlatformError as exc:
                self.started[backtest_id] = True  # we stop following it; say so
                return core.Outcome(
                    variant, backtest_id, core.State.UNKNOWN, error=f"status unreadable: {exc}"
                )
            self.on_status(index, status)
            if status.state.finished:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.poll)
        if not status.state.finished:  # stopped by Ctrl-C: _one cancels it
            return core.Outcome(variant, backtest_id, core.State.CANCELLED, error=INTERRUPTED)
        self.started[backtest_id] = True
        if status.state is not core.State.COMPLETED:
            why = status.message or status.state.value
            return core.Outcome(variant, backtest_id, status.state, error=why)
        try:
            metrics = await self.backtester.results(backtest_id)
        except PlatformError as exc:
            return core.Outcome(
                variant, backtest_id, core.State.FAILED, error=f"results unreadable: {exc}"
            )
        return core.Outcome(variant, backtest_id, core.State.COMPLETED, metrics)

    async def _cancel(self, backtest_id: str) -> None:
        """Cancel one backtest on the platform; it counts as ended once the platform said
        yes (or that it had already ended)."""
        try:
            await asyncio.wait_for(self.backtester.cancel(backtest_id), self.cancel_timeout)
        except (PlatformError, TimeoutError):
            with contextlib.suppress(PlatformError, TimeoutError):
                status = await asyncio.wait_for(
                    self.backtester.status(backtest_id), self.cancel_timeout
                )
                self.started[backtest_id] = status.state.finished
            return
        self.started[backtest_id] = True
        self.cancelled.append(backtest_id)
