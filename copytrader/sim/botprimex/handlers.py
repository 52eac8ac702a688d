"""Handlers of the BotPrimeX endpoints: the request in, ``(object, HTTP status)`` out.

Each handler takes the state, the calling account, the JSON body, the query and the path's
id; it raises :class:`~copytrader.sim.botprimex.errors.BpxError` to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from copytrader.sim.botprimex.errors import BpxError, forbidden, invalid, not_found
from copytrader.sim.botprimex.fields import page_limit
from copytrader.sim.botprimex.records import AccountRecord, iso
from copytrader.sim.botprimex.state import BpxState

Query = Mapping[str, str]
Result = tuple[Any, int]
Handler = Callable[[BpxState, AccountRecord, Any, Query, str], Result]


def _page(
    state: BpxState,
    ids: Callable[[], list[str]],
    query: Query,
    render: Callable[[str], dict[str, Any] | None],
) -> Result:
    found, cursor = state.cursors.page(ids, page_limit(query.get("limit")), query.get("cursor"))
    items = [item for i in found if (item := render(i)) is not None]
    return {"data": items, "next_cursor": cursor}, 200


def bots_list(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    """GET /bots: a page of the account's bots."""

    def render(bot_id: str) -> dict[str, Any] | None:
        bot = state.bots.get(bot_id)
        return bot.to_json() if bot is not None else None

    return _page(state, lambda: list(acc.bots), query, render)


def bots_create(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    """POST /bots: a new stopped bot."""
    return state.create_bot(acc, body).to_json(), 201


def bot_get(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    return state.bot(acc, bot_id).to_json(), 200


def bot_edit(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    return state.edit(acc, bot_id, body).to_json(), 200


def bot_delete(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    state.delete(acc, bot_id)
    return None, 204


def bot_start(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    return state.start(acc, bot_id).to_json(), 200


def bot_stop(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    return state.stop(acc, bot_id).to_json(), 200


def bot_trades(state: BpxState, acc: AccountRecord, body: Any, query: Query, bot_id: str) -> Result:
    """GET /bots/:id/trades: a page of one bot's trades, oldest first."""
    bot = state.bot(acc, bot_id)
    trades = list(bot.trades or [])
    by_id = {t.trade_id: t for t in trades}
    return _page(state, lambda: list(by_id), query, lambda i: by_id[i].to_json())


def trades_list(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    """GET /trades: a page of every trade of the account's bots."""

    def ids() -> list[str]:
        return [t for t, trade in state.trades.items() if trade.bot_id in acc.bots]

    def render(trade_id: str) -> dict[str, Any] | None:
        trade = state.trades.get(trade_id)
        return trade.to_json() if trade is not None else None

    return _page(state, ids, query, render)


def trade_get(
    state: BpxState, acc: AccountRecord, body: Any, query: Query, trade_id: str
) -> Result:
    trade = state.trades.get(trade_id)
    if trade is None:
        raise not_found("trade", trade_id)
    if trade.bot_id not in acc.bots:
        raise forbidden("trade", trade_id)
    return trade.to_json(), 200


def portfolio(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    """GET /portfolio: the account's closed-trade profit over its bots' stakes."""
    bots = [state.bots[b] for b in acc.bots if b in state.bots]
    profit = sum(b.profit_usd for b in bots)
    staked = sum(b.stake_amount * b.max_open_trades for b in bots)
    balance = 10_000.0 + profit
    pct = profit / staked * 100.0 if staked else 0.0
    return {
        "balance_usd": round(balance, 2),
        "profit_usd": round(profit, 6),
        "profit_pct": round(pct, 6),
    }, 200


def portfolio_history(
    state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str
) -> Result:
    """GET /portfolio/history?days=N: one balance a day (today's is the current one)."""
    try:
        days = int(query.get("days", "30"))
    except ValueError:
        raise invalid("days must be an integer") from None
    if not 1 <= days <= 365:
        raise invalid("days must be between 1 and 365")
    balance = portfolio(state, acc, body, query, "")[0]["balance_usd"]
    now = state.clock()
    data = [
        {
            "date": iso(now - timedelta(days=days - 1 - i).total_seconds())[:10],
            "balance_usd": balance if i == days - 1 else 10_000.0,
        }
        for i in range(days)
    ]
    return {"data": data}, 200


def account(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    return acc.to_json(), 200


def subscription(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    return {"plan": acc.plan, "renews_at": iso(state.clock() + 30 * 86_400)}, 200


def exchanges_list(state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str) -> Result:
    data = [
        {"id": i, "exchange": name, "created_at": iso(at)}
        for i, (name, at) in acc.exchanges.items()
    ]
    return {"data": data}, 200


def exchanges_connect(
    state: BpxState, acc: AccountRecord, body: Any, query: Query, _: str
) -> Result:
    """POST /exchanges: connect an exchange (its keys are checked and never returned)."""
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    for key in ("exchange", "api_key", "api_secret"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise invalid(f"{key} must be a non-empty string")
    if body["exchange"] in acc.connected():
        raise BpxError(409, "conflict", f"exchange {body['exchange']} is already connected")
    conn = state.new_id("exc_")
    acc.exchanges[conn] = (body["exchange"], state.clock())
    return {"id": conn, "exchange": body["exchange"], "created_at": iso(state.clock())}, 201


def exchanges_disconnect(
    state: BpxState, acc: AccountRecord, body: Any, query: Query, conn: str
) -> Result:
    if conn not in acc.exchanges:
        owned = any(conn in other.exchanges for other in state.accounts.values())
        raise forbidden("exchange connection", conn) if owned else not_found("exchange", conn)
    del acc.exchanges[conn]
    return None, 204


#: (method, route template) -> handler.
ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/bots"): bots_list,
    ("POST", "/bots"): bots_create,
    ("GET", "/bots/{id}"): bot_get,
    ("PATCH", "/bots/{id}"): bot_edit,
    ("DELETE", "/bots/{id}"): bot_delete,
    ("POST", "/bots/{id}/start"): bot_start,
    ("POST", "/bots/{id}/stop"): bot_stop,
    ("GET", "/bots/{id}/trades"): bot_trades,
    ("GET", "/trades"): trades_list,
    ("GET", "/trades/{id}"): trade_get,
    ("GET", "/portfolio"): portfolio,
    ("GET", "/portfolio/history"): portfolio_history,
    ("GET", "/account"): account,
    ("GET", "/account/subscription"): subscription,
    ("GET", "/exchanges"): exchanges_list,
    ("POST", "/exchanges"): exchanges_connect,
    ("DELETE", "/exchanges/{id}"): exchanges_disconnect,
}
#: The listings ``page_fail`` faults apply to.
PAGED = frozenset({("GET", "/bots"), ("GET", "/bots/{id}/trades"), ("GET", "/trades")})
