"""Handlers of the trading-activity endpoints: orders, logs, positions and grid previews.

The data is synthesised from a bot's settings and the simulated price walk: simple, but
shaped exactly like the reference's objects so that clients can parse it.
"""

from __future__ import annotations

from typing import Any

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.records import BotRecord
from copytrader.sim.haas.state import SimState
from copytrader.sim.haas.validation import (
    check_settings,
    check_type,
    invalid,
    not_found,
    number,
    page_limit,
    required_str,
)

Body = dict[str, Any]
Params = dict[str, str]
MAX_ORDERS = 100


def _quote(symbol: str) -> str:
    parts = symbol.split("_")
    return parts[2] if len(parts) > 2 else "USDT"


def _order(symbol: str, n: int, direction: str, price: float, amount: float, leverage: float,
           ts: int, position_id: str, note: str, prefix: str) -> Body:
    return {
        "orderId": f"{prefix}_{n}", "exchangeOrderId": f"{abs(hash((prefix, n))) % 10**12}",
        "positionId": position_id, "status": "OPEN", "timestamp": ts, "direction": direction,
        "orderType": "Limit", "price": round(price, 8), "triggerPrice": 0,
        "tradePrice": round(price, 8), "amount": round(amount, 8), "amountFilled": 0,
        "feeCosts": 0, "feeCurrency": _quote(symbol), "grossProfit": 0, "roi": 0,
        "market": symbol, "leverage": leverage, "note": note,
    }


def grid_orders(bot_type: str, settings: dict[str, Any], price: float, ts: int,
                prefix: str) -> list[Body]:
    """The limit orders a grid with ``settings`` keeps open around ``price``."""
    lower, upper = number(settings.get("lowerLimit")), number(settings.get("upperLimit"))
    count = int(number(settings.get("gridCount")))
    if not 0 < lower < upper or count < 1:
        return []
    count = min(count, MAX_ORDERS)
    if settings.get("gridMode") == "Geometric":
        levels = [lower * (upper / lower) ** (i / count) for i in range(count + 1)]
    else:
        levels = [lower + i * (upper - lower) / count for i in range(count + 1)]
    nearest = min(levels, key=lambda level: abs(level - price))
    leverage = max(1.0, number(settings.get("leverage"), 1.0))
    per_grid = number(settings.get("investmentAmount")) * leverage / count
    symbol = str(settings.get("symbol", ""))
    return [
        _order(symbol, i, "BUY" if level < price else "SELL", level, per_grid / level,
               leverage, ts, "", f"Grid order #{i}", prefix)
        for i, level in enumerate(levels) if level != nearest
    ]


def _dca_orders(bot: BotRecord, price: float, ts: int) -> list[Body]:
    s = bot.settings
    long = s.get("direction") != "Short"
    gap = number(s.get("priceDeviation"), 1.0) / 100.0
    count = min(int(number(s.get("orderCount"), 5.0)), MAX_ORDERS)
    scale = number(s.get("volumeScale"), 1.0)
    leverage = max(1.0, number(s.get("leverage"), 1.0))
    base = number(s.get("investmentAmount")) * leverage / max(count, 1)
    orders = []
    for i in range(count):
        level = price * (1 - gap * (i + 1)) if long else price * (1 + gap * (i + 1))
        orders.append(_order(str(s.get("symbol", "")), i, "BUY" if long else "SELL", level,
                             base * scale**i / level, leverage, ts, "", f"Safety order #{i}",
                             f"ord_{bot.bot_id[:12]}"))
    return orders


def bots_orders(state: SimState, body: Body, _: Params) -> list[Body]:
    """POST /bots/orders: a running bot's open orders (none when stopped)."""
    bot = state.record(required_str(body, "botId"))
    if bot.status != "running":
        return []
    price = state.walk.price(str(bot.settings.get("symbol", "")))
    if bot.type.endswith("grid"):
        return grid_orders(bot.type, bot.settings, price, state.now(), f"ord_{bot.bot_id[:12]}")
    if bot.type.endswith("dollar_cost_averaging"):
        return _dca_orders(bot, price, state.now())
    return []


def bots_preview(state: SimState, body: Body, _: Params) -> list[Body]:
    """POST /bots/preview: the orders a grid bot would place now (grid types only)."""
    user = state.user(required_str(body, "userId"))
    if required_str(body, "exchangeId") != user["exchangeId"]:
        raise invalid("exchangeId must be the user's exchange")
    bot_type = check_type(body.get("type"))
    if not bot_type.endswith("grid"):
        raise invalid("preview supports grid bots only")
    settings = catalogue.defaults(bot_type)
    settings.update(check_settings(bot_type, body.get("settings")))
    price = state.walk.price(str(settings.get("symbol", "")))
    return grid_orders(bot_type, settings, price, state.now(), "preview")


def bots_logs(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/logs: a page of the bot's log; ``offset`` skips lines of a new listing."""
    bot = state.record(required_str(body, "botId"))
    offset = body.get("offset") or 0
    if not isinstance(offset, int) or offset < 0:
        raise invalid("offset must be a non-negative integer")
    events = [(bot.created_at, "info", "Bot created"), *(bot.events or [])]
    ids, token = state.pager.page(lambda: [str(i) for i in range(offset, len(events))],
                                  page_limit(body.get("limit")), body.get("nextPageId"))
    items = []
    for i in ids:
        if int(i) < len(events):
            ts, severity, message = events[int(i)]
            items.append({"lineNumber": int(i) + 1, "timestamp": ts, "severity": severity,
                          "color": None, "message": message})
    return {"items": items, "nextPageId": token}


def _position(bot: BotRecord, state: SimState, start: int, end: int | None,
              profit: float, ts: int) -> Body:
    symbol = str(bot.settings.get("symbol", ""))
    leverage = max(1.0, number(bot.settings.get("leverage"), 1.0))
    invest = number(bot.settings.get("investmentAmount"))
    enter = state.walk.price(symbol, start)
    amount = invest * leverage / enter if enter else 0.0
    base = symbol.split("_")[1] if symbol.count("_") >= 2 else symbol
    return {
        "positionId": f"pos_{bot.bot_id[:12]}_{start}",
        "status": "OPEN" if end is None else "CLOSED",
        "timestamp": ts,
        "direction": "SHORT" if bot.settings.get("direction") == "Short" else "LONG",
        "enterPrice": round(enter, 8),
        "exitPrice": None if end is None else round(state.walk.price(symbol, end), 8),
        "amount": round(amount, 8),
        "amountLabel": f"{amount:.4f} {base}",
        "unrealizedProfit": round(profit, 6) if end is None else 0,
        "realizedProfit": 0 if end is None else round(profit, 6),
        "profitLabel": f"{profit:.2f} {_quote(symbol)}",
        "roi": round(profit / invest * 100, 6) if invest > 0 else 0,
        "feeCosts": 0,
        "market": symbol,
        "leverage": leverage,
        "openTime": ts,
        "closeTime": 0 if end is None else ts,
        "orderCount": 1 if end is None else 2,
    }


def _open_positions(state: SimState, bot: BotRecord) -> list[Body]:
    if bot.run_start is None or bot.type == "webhook":
        return []
    now = state.walk.index()
    profit = state.walk.segment_profit(bot.type, bot.settings, bot.run_start, now)
    return [_position(bot, state, bot.run_start, None, profit, state.now())]


def _closed_positions(state: SimState, bot: BotRecord) -> list[Body]:
    return [_position(bot, state, c["start"], c["end"], c["profit"], c["ts"])
            for c in bot.closed or []]


def bots_positions(state: SimState, body: Body, _: Params) -> list[Body]:
    """POST /bots/positions: the open position of a running bot."""
    return _open_positions(state, state.record(required_str(body, "botId")))


def bots_positions_closed(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/positions/closed: a page of positions closed by stopping the bot."""
    closed = _closed_positions(state, state.record(required_str(body, "botId")))
    ids, token = state.pager.page(lambda: [str(i) for i in range(len(closed))],
                                  page_limit(body.get("limit")), body.get("nextPageId"))
    return {"items": [closed[int(i)] for i in ids if int(i) < len(closed)], "nextPageId": token}


def _position_order(pos: Body, kind: str, direction: str, price: float,
                    profit: float) -> Body:
    return {"orderId": f"{pos['positionId']}_{kind}", "timestamp": pos["timestamp"],
            "direction": direction, "orderType": "Limit", "price": price,
            "amount": pos["amount"], "feeCosts": 0, "feeCurrency": _quote(pos["market"]),
            "profit": profit, "roi": pos["roi"] if profit else 0, "note": f"Position {kind}"}


def bots_positions_orders(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/positions/orders: a position's enter and exit orders."""
    bot = state.record(required_str(body, "botId"))
    position_id = required_str(body, "positionId")
    for pos in _open_positions(state, bot) + _closed_positions(state, bot):
        if pos["positionId"] != position_id:
            continue
        enter_dir, exit_dir = ("SELL", "BUY") if pos["direction"] == "SHORT" else ("BUY", "SELL")
        exits = [] if pos["exitPrice"] is None else [
            _position_order(pos, "exit", exit_dir, pos["exitPrice"], pos["realizedProfit"])]
        return {"positionId": position_id,
                "enterOrders": [_position_order(pos, "enter", enter_dir, pos["enterPrice"], 0)],
                "exitOrders": exits}
    raise not_found("position", position_id)
