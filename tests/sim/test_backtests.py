"""The simulator's backtests: deterministic, driven by the settings, with real figures; and
their fault injection (a failing backtest, a slow one) through the control API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from copytrader.sim.haas import history
from copytrader.sim.haas.seed import _CONDITIONS, _GRID_TAIL, DEMO, seed_demo
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import Api

DAYS_30 = 30 * 86400
GRID: dict[str, Any] = {**_GRID_TAIL, "investmentAsset": "Quote", "investmentAmount": 1000,
                        "tradeToFillGrid": False, **_CONDITIONS, "symbol": "BITMEXSPOT_ETH_USDT_"}
DCA: dict[str, Any] = {"symbol": "BITMEXSPOT_BTC_USDT_", "investmentAmount": 200,
                       "takeProfit": 2, "stopLoss": 10}


def figures(bot_type: str, settings: dict[str, Any], seconds: int = DAYS_30) -> dict[str, Any]:
    m = history.backtest(bot_type, settings, 1_700_000_000, 1_700_000_000 + seconds).metrics()
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in m.items()}


def test_the_history_is_fixed_per_symbol_and_anchored_at_the_start() -> None:
    a = history.prices("BITMEXSPOT_ETH_USDT_", 720)
    assert a == history.prices("BITMEXSPOT_ETH_USDT_", 720)
    assert history.prices("BITMEXSPOT_ETH_USDT_", 24) == a[:25]  # a shorter window: a prefix
    assert a[0] == 3500.0 and round(a[-1], 2) == 3260.49
    assert history.prices("BITMEXSPOT_BTC_USDT_", 720) != a


@pytest.mark.parametrize(
    ("case", "bot_type", "settings", "expected"),
    [
        ("the demo grid master", "spot_grid", GRID,
         {"roi": 7.04, "drawdown_pct": 8.25, "win_rate": 1.0, "profit_factor": None,
          "closed": 1, "realized": 70.36}),
        ("half the investment: half the profit, the same ROI", "spot_grid",
         {**GRID, "investmentAmount": 500},
         {"roi": 7.04, "drawdown_pct": 8.25, "realized": 35.18}),
        ("ten grids trade more", "spot_grid", {**GRID, "gridCount": 10},
         {"roi": 9.55, "drawdown_pct": 5.74, "closed": 26, "win_rate": 1.0}),
        ("a grid too fine for its fees loses on most trades", "spot_grid",
         {**GRID, "gridCount": 200},
         {"roi": 3.1, "win_rate": 0.07, "profit_factor": 8.59, "closed": 1387}),
        ("a hard stop above the price stops at once", "spot_grid",
         {**GRID, "stopCondition": "Price", "stopValue": 3200},
         {"roi": 0.0, "closed": 0, "win_rate": None, "drawdown_pct": 13.37}),
        ("orders under the market minimum are not placed", "spot_grid",
         {**GRID, "investmentAmount": 3, "gridCount": 10}, {"roi": 0.0, "closed": 0}),
        ("the demo DCA master", "spot_dollar_cost_averaging", DCA,
         {"roi": -32.1, "drawdown_pct": 36.37, "profit_factor": 0.24, "win_rate": 0.75,
          "closed": 16}),
        ("a DCA's own take profit", "spot_dollar_cost_averaging", {**DCA, "takeProfit": 3},
         {"roi": -33.47, "win_rate": 0.6, "closed": 10}),
        ("a short DCA", "spot_dollar_cost_averaging", {**DCA, "direction": "Short"},
         {"roi": 10.31, "profit_factor": 1.97, "win_rate": 0.96}),
    ],
)
def test_figures_follow_the_settings(
    case: str, bot_type: str, settings: dict[str, Any], expected: dict[str, Any]
) -> None:
    got = figures(bot_type, settings)
    assert {k: got[k] for k in expected} == expected, case
    assert figures(bot_type, settings) == got  # deterministic


def test_the_window_length_matters_not_its_date() -> None:
    run = history.backtest("spot_grid", GRID, 0, DAYS_30).metrics()
    later = history.backtest("spot_grid", GRID, 10**9, 10**9 + DAYS_30).metrics()
    week = history.backtest("spot_grid", GRID, 0, 7 * 86400).metrics()
    assert run == later
    assert week != run


def _body(state: SimState, settings: dict[str, Any]) -> dict[str, Any]:
    if DEMO.spot_owner not in state.user_ids():
        seed_demo(state)
    return {"userId": DEMO.spot_owner, "type": "spot_grid", "exchangeId": "BITMEXSPOT",
            "settings": settings, "startUnix": 1_700_000_000, "endUnix": 1_700_000_000 + DAYS_30}


async def _poll(api: Api, backtest_id: str, times: int = 10) -> list[tuple[str, int, str]]:
    seen = []
    for _ in range(times):
        s = await api.data(f"/bots/backtest/{backtest_id}/status", ...)
        seen.append((s["state"], s["progress"], s["message"]))
        if s["state"] in ("completed", "failed", "cancelled"):
            break
    return seen


async def test_results_carry_the_engine_s_figures(api: Api, state: SimState) -> None:
    started = await api.data("/bots/backtest", _body(state, GRID))
    await _poll(api, started["backtestId"])
    results = await api.data(f"/bots/backtest/{started['backtestId']}/results", ...)
    assert results["summary"]["roi"] == 7.04
    assert results["summary"]["realizedProfit"] == 70.36
    assert results["performance"]["maxDrawdownPercent"] == -8.25  # negative, as the reference
    assert results["performance"]["winPercentage"] == 1.0
    assert results["performance"]["profitFactor"] is None  # no losing trade
    assert results["positions"]["closedPositions"] == 1
    positions = await api.data(f"/bots/backtest/{started['backtestId']}/positions", ...)
    assert [p["rp"] for p in positions] == [70.36]


async def test_a_failing_rule_fails_the_matching_backtest_only(api: Api, state: SimState) -> None:
    status, env = await api.post("/_sim/backtest-rules", {
        "match": {"investmentAmount": 500}, "fail": "no price data", "times": 1})
    assert status == 200 and env["data"] == 1
    failing = await api.data("/bots/backtest", _body(state, {**GRID, "investmentAmount": 500}))
    fine = await api.data("/bots/backtest", _body(state, GRID))
    seen = await _poll(api, failing["backtestId"])
    assert seen[-1] == ("failed", 100, "no price data")
    assert [s[0] for s in seen[:-1]] == ["loading_script", "loading_data", "executing",
                                         "executing", "executing"]
    env = (await api.get(f"/bots/backtest/{failing['backtestId']}/results"))[1]
    assert env["isSuccess"] is False and "failed, not completed" in env["message"]
    assert (await _poll(api, fine["backtestId"]))[-1][0] == "completed"
    again = await api.data("/bots/backtest", _body(state, {**GRID, "investmentAmount": 500}))
    assert (await _poll(api, again["backtestId"]))[-1][0] == "completed"  # times: 1


async def test_a_slow_backtest_moves_by_the_clock_and_can_be_cancelled(
    api: Api, state: SimState
) -> None:
    await api.post("/_sim/backtest-rules", {"seconds": 0.6})
    started = await api.data("/bots/backtest", _body(state, GRID))
    base = f"/bots/backtest/{started['backtestId']}"
    first = [await api.data(base + "/status", ...) for _ in range(8)]
    assert all(s["state"] != "completed" for s in first)  # polls alone do not finish it
    await asyncio.sleep(0.7)
    assert (await api.data(base + "/status", ...))["state"] == "completed"

    other = await api.data("/bots/backtest", _body(state, GRID))
    await asyncio.sleep(0.2)
    assert await api.data(f"/bots/backtest/{other['backtestId']}/cancel", {}) is True
    listed = {b["backtestId"]: b for b in await api.data("/_sim/backtests", ...)}
    assert listed[other["backtestId"]]["state"] == "cancelled"
    assert listed[started["backtestId"]]["state"] == "completed"
    await asyncio.sleep(0.6)  # cancelled stays cancelled
    assert (await api.data(f"/bots/backtest/{other['backtestId']}/status", ...))["state"] == (
        "cancelled"
    )
    assert (await api.env(f"/bots/backtest/{other['backtestId']}/cancel"))["isSuccess"] is False
    assert len(state.backtest_rules) == 1  # times -1: until removed
    async with api.session.delete(api.url + "/_sim/backtest-rules") as resp:
        assert resp.status == 200
    assert state.backtest_rules == []


@pytest.mark.parametrize(
    "rule",
    [{"fail": 3}, {"seconds": -1}, {"times": 0}, {"match": [1]}, {"nope": 1}, "x"],
)
async def test_bad_rules_are_refused(api: Api, rule: Any) -> None:
    status, env = await api.post("/_sim/backtest-rules", rule)
    assert status == 400 and "bad backtest rule" in env["message"]
