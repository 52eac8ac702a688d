"""The HaasOnline backtests adapter against the simulator, and its mapping of odd answers."""

from __future__ import annotations

from typing import Any

import pytest

from copytrader.core import backtest as core
from copytrader.errors import MalformedResponseError, PermanentError
from copytrader.platform.capabilities import Capability
from copytrader.platform.haas import backtests as haas
from copytrader.platform.haas.client import PlatformClient
from copytrader.sim.haas.records import BacktestRule
from copytrader.sim.haas.seed import _CONDITIONS, _GRID_TAIL, DEMO, seed_demo
from copytrader.sim.haas.server import SimServer

GRID: dict[str, Any] = {**_GRID_TAIL, "investmentAsset": "Quote", "investmentAmount": 1000,
                        "tradeToFillGrid": False, **_CONDITIONS, "symbol": "BITMEXSPOT_ETH_USDT_"}


def request(**settings: Any) -> core.Request:
    return core.Request(DEMO.spot_owner, "spot_grid", "BITMEXSPOT", {**GRID, **settings},
                        1_700_000_000, 1_700_000_000 + 30 * 86400)


async def test_start_poll_results_and_cancel(sim: SimServer, client: PlatformClient) -> None:
    seed_demo(sim.state)
    assert Capability.BACKTESTS in client.capabilities
    bt = client.backtests
    backtest_id = await bt.start(request())
    states = []
    for _ in range(10):
        status = await bt.status(backtest_id)
        states.append((status.state, status.progress))
        if status.state.finished:
            break
    assert states[-1] == (core.State.COMPLETED, 100)
    assert states[0] == (core.State.LOADING_SCRIPT, 0)
    assert await bt.results(backtest_id) == core.Metrics(
        roi=7.04, max_drawdown_pct=8.25, profit_factor=None, win_rate=1.0, profit=70.36, trades=1
    )
    sim.state.backtest_rules.append(BacktestRule(seconds=30))
    slow = await bt.start(request())
    await bt.cancel(slow)
    assert (await bt.status(slow)).state is core.State.CANCELLED
    with pytest.raises(PermanentError):
        await bt.results(slow)
    with pytest.raises(PermanentError):
        await bt.cancel(slow)  # already cancelled
    sent = [r.body for r in sim.state.requests if r.path == "/bots/backtest"]
    assert sent[0] == {"userId": DEMO.spot_owner, "type": "spot_grid", "exchangeId": "BITMEXSPOT",
                       "settings": {**GRID}, "startUnix": 1_700_000_000,
                       "endUnix": 1_700_000_000 + 30 * 86400}


def test_status_mapping() -> None:
    assert haas.status({"backtestId": "b", "state": "executing", "progress": 67.5,
                        "message": "x"}) == core.Status("b", core.State.EXECUTING, 67, "x")
    assert haas.status({"backtestId": "b", "state": "new-state", "progress": "?"}) == (
        core.Status("b", core.State.UNKNOWN, 0, ""))
    assert haas.status({"backtestId": "b", "state": "executing", "progress": 400}).progress == 100
    for bad in ({"state": "completed"}, [], None, {"backtestId": ""}):
        with pytest.raises(MalformedResponseError):
            haas.status(bad)


def test_metrics_mapping_keeps_what_is_missing_missing() -> None:
    reference = {  # the reference's own example (seeds/000)
        "summary": {"realizedProfit": 245.67, "roi": 24.57},
        "performance": {"profitFactor": 2.34, "maxDrawdownPercent": -4.52,
                        "winPercentage": 0.68},
        "positions": {"closedPositions": 78},
    }
    assert haas.metrics(reference) == core.Metrics(24.57, 4.52, 2.34, 0.68, 245.67, 78)
    assert haas.metrics({}) == core.Metrics(None, None, None, None, None, None)
    assert haas.metrics({"summary": "x", "performance": {"profitFactor": "2"}}) == (
        core.Metrics(None, None, None, None, None, None))
    with pytest.raises(MalformedResponseError):
        haas.metrics([1, 2])
