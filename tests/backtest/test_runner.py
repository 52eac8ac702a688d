"""The backtest runner against the simulator through the real client: concurrency bound,
rate limit, a failure that spares the others, and Ctrl-C cancelling on the platform."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from copytrader.backtest.runner import INTERRUPTED, Runner
from copytrader.core import backtest as core
from copytrader.platform.backoff import Backoff
from copytrader.platform.haas.client import PlatformClient
from copytrader.settings import Secret
from copytrader.sim.faults import Fault
from copytrader.sim.haas.records import BacktestRule
from copytrader.sim.haas.seed import _CONDITIONS, _GRID_TAIL, DEMO
from copytrader.sim.haas.server import SimServer
from tests.world import demo_sim

KEY = "runner-key-0b3a"
GRID: dict[str, Any] = {**_GRID_TAIL, "investmentAsset": "Quote", "investmentAmount": 1000,
                        "tradeToFillGrid": False, **_CONDITIONS, "symbol": "BITMEXSPOT_ETH_USDT_"}


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=5) as server:
        yield server


def client(sim: SimServer, **kw: Any) -> PlatformClient:
    options: dict[str, Any] = {
        "rate_limit_per_minute": None,
        "timeout": 5.0,
        "backoff": Backoff(base=0.005, cap=0.02, max_attempts=3, rng=random.Random(1)),
    }
    return PlatformClient(sim.url, Secret(KEY), **{**options, **kw})


def jobs(*amounts: int) -> list[tuple[core.Variant, core.Request]]:
    out = []
    for i, amount in enumerate(amounts):
        settings = {**GRID, "investmentAmount": amount}
        out.append((
            core.Variant(settings, (f"f{i}",), i == 0),
            core.Request(DEMO.spot_owner, "spot_grid", "BITMEXSPOT", settings, 0, 30 * 86400),
        ))
    return out


class Watched:
    """The real backtester, with how many backtests were running at once at most."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.running: set[str] = set()
        self.most = 0

    async def start(self, request: core.Request) -> str:
        backtest_id: str = await self.inner.start(request)
        self.running.add(backtest_id)
        self.most = max(self.most, len(self.running))
        return backtest_id

    async def status(self, backtest_id: str) -> core.Status:
        status: core.Status = await self.inner.status(backtest_id)
        if status.state.finished:
            self.running.discard(backtest_id)
        return status

    async def results(self, backtest_id: str) -> core.Metrics:
        metrics: core.Metrics = await self.inner.results(backtest_id)
        return metrics

    async def cancel(self, backtest_id: str) -> None:
        await self.inner.cancel(backtest_id)
        self.running.discard(backtest_id)


async def test_every_backtest_runs_with_at_most_parallel_at_once(sim: SimServer) -> None:
    sim.state.backtest_rules.append(BacktestRule(seconds=0.4))
    async with client(sim) as c:
        watched = Watched(c.backtests)
        seen: list[tuple[int, core.State]] = []
        runner = Runner(watched, parallel=2, poll=0.05, stop=asyncio.Event(),
                        on_status=lambda i, s: seen.append((i, s.state)))
        outcomes = await runner.run(jobs(1000, 500, 250, 100, 50))
    assert watched.most == 2
    assert [o.state for o in outcomes] == [core.State.COMPLETED] * 5
    assert [o.metrics.roi for o in outcomes if o.metrics] == [7.04] * 5
    assert [o.metrics.profit for o in outcomes if o.metrics] == [70.36, 35.18, 17.59, 7.04, 3.52]
    assert {i for i, s in seen if s is core.State.COMPLETED} == {0, 1, 2, 3, 4}
    assert runner.still_running == []


async def test_a_failed_or_unstartable_backtest_spares_the_others(sim: SimServer) -> None:
    sim.state.backtest_rules.append(BacktestRule(match={"investmentAmount": 500}, fail="no data"))
    sim.state.faults.add(Fault("/bots/backtest", "reject", after=2))  # the third start
    async with client(sim) as c:
        runner = Runner(c.backtests, parallel=1, poll=0.01, stop=asyncio.Event())
        outcomes = await runner.run(jobs(1000, 500, 250, 100))
    assert [o.state for o in outcomes] == [
        core.State.COMPLETED, core.State.FAILED, core.State.FAILED, core.State.COMPLETED
    ]
    assert outcomes[1].error == "no data" and outcomes[1].backtest_id
    assert outcomes[2].backtest_id is None and outcomes[2].error.startswith("not started: ")
    assert outcomes[3].metrics is not None and outcomes[3].metrics.profit == 7.04


async def test_stop_cancels_every_running_backtest_on_the_platform(sim: SimServer) -> None:
    sim.state.backtest_rules.append(BacktestRule(seconds=60))
    stop = asyncio.Event()
    async with client(sim) as c:
        runner = Runner(c.backtests, parallel=3, poll=0.05, stop=stop)
        task = asyncio.create_task(runner.run(jobs(1000, 500, 250, 100, 50)))
        for _ in range(500):  # the first three started (the slots are full)
            if len(sim.state.backtests) == 3:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        stop.set()
        outcomes = await asyncio.wait_for(task, 10)
    assert [o.state for o in outcomes] == [core.State.CANCELLED] * 5
    assert all(o.error == INTERRUPTED for o in outcomes)
    assert len(sim.state.backtests) == 3  # the last two never started
    on_platform = {b: bt["final"][0] for b, bt in sim.state.backtests.items()}
    assert set(on_platform.values()) == {"cancelled"}
    assert sorted(runner.cancelled) == sorted(on_platform)
    assert runner.still_running == []


async def test_polls_stay_under_the_rate_limit(sim: SimServer) -> None:
    sim.state.backtest_rules.append(BacktestRule(seconds=1.5))
    async with client(sim, rate_limit_per_minute=8, rate_window=0.5, concurrency=8) as c:
        runner = Runner(c.backtests, parallel=4, poll=0.0, stop=asyncio.Event())
        started = time.monotonic()
        outcomes = await runner.run(jobs(1000, 500, 250, 100))
        elapsed = time.monotonic() - started
        waited = c.rate_limit_wait_seconds
    assert [o.state for o in outcomes] == [core.State.COMPLETED] * 4
    sent = sum(1 for r in sim.state.requests if r.path.startswith("/bots/backtest"))
    assert sent > 16  # enough that polls with no pause would have burst past the limit
    assert waited > 0  # they waited for the window instead
    # 8 per 0.5 s window at most: the first window's 8, then 8 per window that ended.
    assert sent <= 8 * (elapsed / 0.5 + 1), (sent, elapsed)


async def test_a_backtest_past_its_timeout_is_cancelled_on_the_platform(sim: SimServer) -> None:
    sim.state.backtest_rules.append(BacktestRule(match={"investmentAmount": 500}, seconds=60))
    async with client(sim) as c:
        runner = Runner(c.backtests, parallel=2, poll=0.05, stop=asyncio.Event(), timeout=0.5)
        outcomes = await runner.run(jobs(1000, 500))
    assert [o.state for o in outcomes] == [core.State.COMPLETED, core.State.CANCELLED]
    assert outcomes[1].error == "no result after 0.5 s: cancelled on the platform"
    slow = outcomes[1].backtest_id
    assert slow is not None and sim.state.backtests[slow]["final"][0] == "cancelled"
    assert runner.cancelled == [slow] and runner.still_running == []
