"""Pass hints with a real event loop and a real PassRunner over a reconciler that only counts:
a burst makes one pass, hints during a pass make exactly one more, two passes never overlap,
and a hinted pass keeps its distance from the previous one."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from copytrader.daemon.hints import PassHints
from copytrader.daemon.passes import Finished, PassRunner
from tests.daemon.conftest import wait_for


class CountingReconciler:
    """Stands in for the Reconciler: each pass takes ``seconds`` and is remembered."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = 0
        self.overlaps = 0
        self.passes = 0
        self.release = asyncio.Event()
        self.release.set()

    async def run_pass(self, **_: Any) -> None:
        self.running += 1
        self.overlaps += self.running > 1
        try:
            await self.release.wait()
            await asyncio.sleep(self.seconds)
            self.passes += 1
        finally:
            self.running -= 1


async def _setup(seconds: float, *, settle: float = 0.05, gap: float = 0.0
                 ) -> tuple[CountingReconciler, PassRunner, PassHints, set[asyncio.Task[Any]]]:
    rec = CountingReconciler(seconds)
    tasks: set[asyncio.Task[Any]] = set()

    async def after(_f: Finished, _aborts: int) -> None:
        return None

    runner = PassRunner(rec, stopping=lambda: False, after=after)  # type: ignore[arg-type]

    def spawn(coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def request() -> None:
        await runner.request("webhook", queue=True)

    hints = PassHints(request, lambda: runner.last.ended if runner.last else None, spawn,
                      settle=settle, gap=gap)
    return rec, runner, hints, tasks


async def test_a_burst_is_one_pass() -> None:
    rec, _runner, hints, tasks = await _setup(0.01)
    for _ in range(200):
        hints.hint()
    await wait_for(lambda: rec.passes >= 1 and not tasks, "the burst's pass")
    assert rec.passes == 1 and hints.requests == 1 and hints.hints == 200


async def test_hints_during_a_pass_make_exactly_one_more_and_none_overlap() -> None:
    rec, runner, hints, tasks = await _setup(0.01)
    rec.release.clear()  # the first pass hangs until released
    hints.hint()
    await wait_for(lambda: rec.running == 1, "the first pass to start")
    for _ in range(50):
        hints.hint()
        await asyncio.sleep(0.01)  # several bursts while the pass runs
    # Only the first request (running the hanging pass) is left: the others queued.
    await wait_for(lambda: len(tasks) == 1, "every later request to be queued")
    assert hints.requests > 1
    rec.release.set()
    await wait_for(lambda: rec.passes == 2 and not runner.busy, "the queued pass")
    assert rec.overlaps == 0
    assert runner.last is not None and runner.last.reason == "webhook"


async def test_a_hinted_pass_keeps_its_gap_from_the_previous_one() -> None:
    rec, runner, hints, tasks = await _setup(0.0, settle=0.0, gap=30.0)
    await runner.request("interval", queue=False)
    assert rec.passes == 1
    hints.hint()
    # Inside the gap the hint waits (about 30 s from the last pass's end), not sooner.
    assert 25.0 < hints.delay() <= 30.0
    await asyncio.sleep(0.1)
    assert rec.passes == 1 and tasks
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
