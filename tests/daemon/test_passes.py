"""The pass runner: one pass at a time, queued triggers, dropped ticks, backoff, drain."""

from __future__ import annotations

import asyncio

import pytest

from copytrader.core.plan import Plan
from copytrader.daemon.passes import MAX_BACKOFF_SECONDS, Finished, PassRunner, backoff_delay
from copytrader.reconcile.service import PassResult


class FakeReconciler:
    """Keeps state: how many passes ran, how many at once; each waits for ``gate``."""

    def __init__(self, states: list[str] | None = None) -> None:
        self.gate = asyncio.Event()
        self.active = 0
        self.max_active = 0
        self.calls = 0
        self.states = states or []

    async def run_pass(self, *, stopping) -> PassResult:
        self.calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await self.gate.wait()
        finally:
            self.active -= 1
        state = self.states.pop(0) if self.states else "ok"
        return PassResult(f"run{self.calls}", Plan(), (), (), state, 0,
                          "unreachable" if state == "aborted" else None)


def runner(fake: FakeReconciler, seen: list[Finished], stop: list[bool] | None = None
           ) -> PassRunner:
    stop = stop if stop is not None else [False]

    async def after(finished: Finished, aborts: int) -> None:
        seen.append(finished)

    return PassRunner(fake, stopping=lambda: stop[0], after=after)  # type: ignore[arg-type]


@pytest.mark.parametrize(("aborts", "delay"), [
    (0, 10.0), (1, 10.0), (2, 20.0), (3, 40.0), (5, 160.0), (6, MAX_BACKOFF_SECONDS),
    (60, MAX_BACKOFF_SECONDS),
])
def test_backoff_doubles_after_the_second_abort_and_is_capped(aborts: int, delay: float) -> None:
    assert backoff_delay(10.0, aborts) == delay


def test_backoff_never_shortens_a_long_interval() -> None:
    assert backoff_delay(900.0, 4) == 900.0


async def test_never_two_passes_at_once_and_a_trigger_queues_one_more() -> None:
    fake, seen = FakeReconciler(), []
    r = runner(fake, seen)
    first = asyncio.create_task(r.request("interval", queue=False))
    await asyncio.sleep(0.01)
    assert r.busy
    # During the pass: two triggers make one more pass; an interval tick is dropped.
    await asyncio.wait_for(r.request("policy change", queue=True), 1)
    await asyncio.wait_for(r.request("reload", queue=True), 1)
    await asyncio.wait_for(r.request("interval", queue=False), 1)
    fake.gate.set()
    await asyncio.wait_for(first, 2)
    assert fake.calls == 2 and fake.max_active == 1
    assert [f.reason for f in seen] == ["interval", "policy change + reload"]
    assert not r.busy


async def test_consecutive_aborts_count_and_reset() -> None:
    fake, seen = FakeReconciler(["aborted", "aborted", "ok", "aborted"]), []
    fake.gate.set()
    r = runner(fake, seen)
    counts = []
    for _ in range(4):
        await r.request("interval", queue=False)
        counts.append(r.consecutive_aborts)
    assert counts == [1, 2, 0, 1]
    assert r.last_good is seen[2]
    assert "aborted" in r.summary(5.0) and "1 in a row" in r.summary(5.0)


async def test_drain_cancels_a_pass_past_the_deadline() -> None:
    fake, seen, stop = FakeReconciler(), [], [False]
    r = runner(fake, seen, stop)
    task = asyncio.create_task(r.request("interval", queue=False))
    await asyncio.sleep(0.01)
    stop[0] = True
    assert await r.drain(0.1) is False
    assert task.done() and task.cancelled()
    assert fake.active == 0 and not r.busy


async def test_drain_waits_for_a_pass_that_finishes() -> None:
    fake, seen, stop = FakeReconciler(), [], [False]
    r = runner(fake, seen, stop)
    task = asyncio.create_task(r.request("interval", queue=True))
    await asyncio.sleep(0.01)
    await r.request("policy change", queue=True)  # queued, but stopping wins
    stop[0] = True
    asyncio.get_running_loop().call_later(0.05, fake.gate.set)
    assert await r.drain(2.0) is True
    await task
    assert fake.calls == 1 and len(seen) == 1
