"""Simulated trades and profit of running bots, from the shared price walk.

A running bot has at most one trade open at a time: it opens a trade, holds it for
``trade_steps`` steps of the walk and closes it, then opens the next one step later. A
trade's profit is the price move of its pair over the hold, times the strategy's gain
(``signal`` bots alternate buy and sell); a trade that lost more than the bot's
``stop_loss`` percent is closed as a stop-loss at that percent. A bot's ``profit_usd`` is the
sum of its closed trades' profit, ``profit_pct`` that sum over its stake. Stopping a bot
closes its open trade at once. Two bots with the same fields started at the same moment
trade alike (a master and its clone), so copy-tracking is visible. Every open and close is a
webhook event (``trade.opened``, ``trade.closed``, ``trade.stoploss``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copytrader.sim.botprimex.records import BotRecord, TradeRecord

if TYPE_CHECKING:
    from copytrader.sim.botprimex.state import BpxState

#: How much of the pair's move each strategy turns into profit.
GAIN = {"dca": 1.0, "grid": 0.6, "signal": 1.5}


def _open(state: BpxState, bot: BotRecord, step: int) -> None:
    if bot.trades is None:
        bot.trades = []
    side = "sell" if bot.strategy == "signal" and len(bot.trades) % 2 else "buy"
    trade = TradeRecord(
        trade_id=state.new_id("trd_"),
        bot_id=bot.bot_id,
        pair=bot.pair,
        side=side,
        opened_at=state.time_at(step),
        open_step=step,
        open_price=state.walk.price(bot.pair, step),
    )
    bot.trades.append(trade)
    bot.open_trade = trade
    state.trades[trade.trade_id] = trade
    state.emit(bot.account, "trade.opened", _trade_data(trade))


def _close(state: BpxState, bot: BotRecord, trade: TradeRecord, step: int) -> None:
    move = state.walk.price(trade.pair, step) / trade.open_price - 1.0
    sign = -1.0 if trade.side == "sell" else 1.0
    pct = sign * move * 100.0 * GAIN.get(bot.strategy, 1.0)
    if pct <= bot.stop_loss:
        pct, trade.stoploss = bot.stop_loss, True
    trade.status = "closed"
    trade.closed_at = state.time_at(step)
    trade.profit_pct = pct
    trade.profit_usd = bot.stake_amount * pct / 100.0
    bot.profit_usd += trade.profit_usd
    bot.open_trade = None
    bot.next_open = step + 1
    event = "trade.stoploss" if trade.stoploss else "trade.closed"
    state.emit(bot.account, event, _trade_data(trade))


def _trade_data(trade: TradeRecord) -> dict[str, object]:
    return {
        "bot_id": trade.bot_id,
        "trade_id": trade.trade_id,
        "pair": trade.pair,
        "side": trade.side,
        "profit_pct": round(trade.profit_pct, 6),
        "profit_usd": round(trade.profit_usd, 6),
    }


def advance(state: BpxState, bot: BotRecord, now: int) -> None:
    """Open and close ``bot``'s trades up to walk step ``now`` (a running bot only)."""
    while bot.status == "running" and bot.next_open is not None:
        trade = bot.open_trade
        if trade is None:
            if bot.next_open > now:
                return
            _open(state, bot, bot.next_open)
            continue
        close_at = trade.open_step + state.trade_steps
        if close_at > now:
            return
        _close(state, bot, trade, close_at)


def started(state: BpxState, bot: BotRecord) -> None:
    """The bot starts trading from now."""
    bot.next_open = state.walk.index()


def stopped(state: BpxState, bot: BotRecord) -> None:
    """The bot stops: its open trade is closed now."""
    now = state.walk.index()
    advance(state, bot, now)
    if bot.open_trade is not None:
        _close(state, bot, bot.open_trade, max(now, bot.open_trade.open_step))
    bot.next_open = None
