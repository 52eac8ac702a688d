"""Orders, logs, positions, previews, backtests and signals answer correctly shaped data."""

from __future__ import annotations

import asyncio

from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import Api, FakeClock

ORDER_KEYS = {"orderId", "exchangeOrderId", "positionId", "status", "timestamp", "direction",
              "orderType", "price", "triggerPrice", "tradePrice", "amount", "amountFilled",
              "feeCosts", "feeCurrency", "grossProfit", "roi", "market", "leverage", "note"}
POSITION_KEYS = {"positionId", "status", "timestamp", "direction", "enterPrice", "exitPrice",
                 "amount", "amountLabel", "unrealizedProfit", "realizedProfit", "profitLabel",
                 "roi", "feeCosts", "market", "leverage", "openTime", "closeTime", "orderCount"}


async def test_orders_and_preview(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    orders = await api.data("/bots/orders", {"botId": ids.spot_grid_master})
    assert len(orders) == 2  # gridCount 2: three levels, the one nearest the price is skipped
    assert all(set(o) == ORDER_KEYS for o in orders)
    dca = await api.data("/bots/orders", {"botId": ids.spot_dca_master})
    assert len(dca) == 5 and {o["direction"] for o in dca} == {"BUY"}
    await api.data("/bots/stop", {"botId": ids.spot_dca_master})
    assert await api.data("/bots/orders", {"botId": ids.spot_dca_master}) == []
    preview = await api.data("/bots/preview", {
        "userId": ids.spot_owner, "exchangeId": "BITMEXSPOT", "type": "spot_grid",
        "settings": {"symbol": "BITMEXSPOT_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000,
                     "gridCount": 10, "investmentAmount": 1000}})
    assert len(preview) == 10 and all(set(o) == ORDER_KEYS for o in preview)
    env = await api.env("/bots/preview", {"userId": ids.spot_owner, "exchangeId": "BITMEXSPOT",
                                          "type": "spot_dollar_cost_averaging", "settings": {}})
    assert env["isSuccess"] is False


async def test_logs_positions_and_position_orders(
    api: Api, state: SimState, clock: FakeClock
) -> None:
    ids = seed_demo(state)
    bot = ids.spot_grid_master
    clock.advance(60)
    open_ = await api.data("/bots/positions", {"botId": bot})
    assert len(open_) == 1 and set(open_[0]) == POSITION_KEYS and open_[0]["status"] == "OPEN"
    await api.data("/bots/edit", {"botId": bot, "settings": {"stopValue": 10}})
    await api.data("/bots/stop", {"botId": bot})
    assert await api.data("/bots/positions", {"botId": bot}) == []
    closed = await api.data("/bots/positions/closed", {"botId": bot, "limit": 50})
    assert len(closed["items"]) == 1 and closed["nextPageId"] is None
    position = closed["items"][0]
    assert position["status"] == "CLOSED" and set(position) == POSITION_KEYS
    orders = await api.data("/bots/positions/orders", {"botId": bot,
                                                       "positionId": position["positionId"]})
    assert orders["positionId"] == position["positionId"]
    assert len(orders["enterOrders"]) == 1 and len(orders["exitOrders"]) == 1
    env = await api.env("/bots/positions/orders", {"botId": bot, "positionId": "pos_nope"})
    assert env["isSuccess"] is False
    logs = await api.data("/bots/logs", {"botId": bot, "limit": 2, "nextPageId": "",
                                         "offset": 0})
    assert [e["lineNumber"] for e in logs["items"]] == [1, 2]
    assert logs["items"][0]["message"] == "Bot created"
    assert set(logs["items"][0]) == {"lineNumber", "timestamp", "severity", "color", "message"}
    rest = await api.data("/bots/logs", {"botId": bot, "limit": 100,
                                         "nextPageId": logs["nextPageId"]})
    assert rest["items"][-1]["message"] == "Bot status: stopped"
    skipped = await api.data("/bots/logs", {"botId": bot, "offset": 1})
    assert skipped["items"][0]["lineNumber"] == 2


async def test_backtest_lifecycle(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    body = {"userId": ids.spot_owner, "type": "spot_grid", "exchangeId": "BITMEXSPOT",
            "settings": {"symbol": "BITMEXSPOT_ETH_USDT_", "investmentAmount": 100,
                         "lowerLimit": 3000, "upperLimit": 4000, "gridCount": 10},
            "startUnix": 1704067200, "endUnix": 1706745600}
    started = await api.data("/bots/backtest", body)
    assert set(started) == {"backtestId", "serviceId", "message"}
    base = f"/bots/backtest/{started['backtestId']}"
    env = (await api.get(base + "/results"))[1]
    assert env["isSuccess"] is False  # not completed yet
    states = []
    for _ in range(7):
        status = await api.data(base + "/status", ...)
        assert set(status) == {"backtestId", "state", "progress", "message", "serviceId"}
        states.append((status["state"], status["progress"]))
    assert states == [("loading_script", 0), ("loading_data", 0), ("executing", 25),
                      ("executing", 50), ("executing", 75), ("completed", 100),
                      ("completed", 100)]
    results = await api.data(base + "/results", ...)
    assert {"summary", "performance", "orders", "positions", "logs"} <= set(results)
    assert len(results["logs"]) <= 50
    assert (await api.data("/bots/backtest", body)) != started  # a new id each run
    logs = await api.data(base + "/logs", ...)
    assert logs and set(logs[0]) == {"lineNumber", "timestamp", "severity", "color", "message"}
    positions = await api.data(base + "/positions", ...)
    assert positions and "eno" in positions[0]
    env = await api.env(base + "/cancel")
    assert env["isSuccess"] is False  # completed: nothing to cancel
    other = await api.data("/bots/backtest", body)
    assert await api.data(f"/bots/backtest/{other['backtestId']}/cancel", {}) is True
    status = await api.data(f"/bots/backtest/{other['backtestId']}/status", ...)
    assert status["state"] == "cancelled"
    assert (await api.get("/bots/backtest/nope/status"))[1]["isSuccess"] is False
    bad = dict(body, endUnix=1)
    assert (await api.env("/bots/backtest", bad))["isSuccess"] is False
    await asyncio.sleep(0)


async def test_signals(api: Api, state: SimState) -> None:
    signal = {"signalToken": "tok-1", "action": "enter_long", "amount": 0.5,
              "timestamp": 1702345678, "price": 100.5}
    assert await api.data("/signals/send", {"signal": signal}) is True
    info = await api.data("/signals/signal", {"signalToken": "tok-1"})
    assert set(info) == {"signalToken", "action", "price", "amount", "timestamp", "metadata"}
    assert (info["action"], info["price"]) == ("enter_long", 100.5)
    for bad in (dict(signal, action="BUY"), dict(signal, amount="x"), {"action": "buy"}):
        assert (await api.env("/signals/send", {"signal": bad}))["isSuccess"] is False
    assert (await api.env("/signals/signal", {"signalToken": "nope"}))["isSuccess"] is False
