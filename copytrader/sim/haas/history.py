"""The simulator's backtest engine: a bot's settings traded over a simulated price history.

The history of a market is one hourly price path per symbol, seeded by the symbol alone and
anchored at the backtest's start: the same settings over the same number of hours always give
the same result, whatever the date, so tests can assert real numbers. The path is built from
uniform steps (no libm call), so it is the same on every machine.

The engines are simple but honest about what settings do:

- a grid splits ``[lowerLimit, upperLimit]`` into ``gridCount`` cells (arithmetic or
  geometric); at the start it buys the cells above the price, then buys a cell when the
  price falls to its lower level and sells it at its upper one. Each fill pays
  :data:`FEE`, so a grid too fine for its fees loses on every trade; an order below the
  spot market's minimum trade amount is not placed. ``startCondition``/``stopCondition`` ``Price``
  start and stop it (``stopExit`` sells what it holds), a futures grid stops at ``maxWin`` /
  ``maxLoss``, ``leverage`` multiplies the stakes;
- a DCA bot opens a round at the price, adds ``orderCount - 1`` safety orders every
  ``priceDeviation`` % (each ``volumeScale`` times the last), closes at ``takeProfit`` % over
  its average (a win) or ``stopLoss`` % under it (a loss), then opens the next round;
- a webhook bot, with no signals in the past, trades a moving-average crossover with
  ``investmentAmount / maxOpenPositions`` per trade.

ROI is the realised profit over ``investmentAmount``; the drawdown is the largest fall of
the equity (realised plus open profit) from its peak, in percent of the peak equity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.validation import number

HOUR = 3600
STEP = 0.014  # an hour's price move is uniform in [-1.4 %, +1.4 %]
FEE = 0.001  # per fill, on the notional
MAX_HOURS = 24 * 366


def prices(symbol: str, hours: int) -> list[float]:
    """The hourly closes of ``symbol`` over ``hours`` hours (``hours + 1`` prices)."""
    rng = random.Random(f"history:{symbol}")
    price = catalogue.START_PRICES.get(symbol) or random.Random(symbol).uniform(1.0, 1000.0)
    out = [price]
    for _ in range(min(hours, MAX_HOURS)):
        price *= 1.0 + (rng.random() * 2.0 - 1.0) * STEP
        out.append(price)
    return out


@dataclass
class Run:
    """What one backtest did: closed trades' profits and the equity after each hour."""

    invest: float
    trades: list[float] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    orders: int = 0
    fees: float = 0.0
    skipped: int = 0  # orders under the market's minimum, not placed
    log: list[tuple[int, str]] = field(default_factory=list)  # (hour, message)

    def close(self, qty: float, entry: float, exit_: float, hour: int, what: str) -> None:
        """Book a closed trade of ``qty`` (negative: short) from ``entry`` to ``exit_``,
        paying :data:`FEE` on both fills."""
        fee = FEE * abs(qty) * (entry + exit_)
        pnl = qty * (exit_ - entry) - fee
        self.fees += fee
        self.trades.append(pnl)
        self.log.append((hour, f"{what}: {'+' if pnl >= 0 else ''}{pnl:.2f}"))

    def metrics(self) -> dict[str, Any]:
        realized = sum(self.trades)
        wins = [t for t in self.trades if t > 0]
        losses = [t for t in self.trades if t <= 0]
        peak, drawdown, drawdown_quote = 0.0, 0.0, 0.0
        for pnl in self.equity:
            peak = max(peak, pnl)
            fall = peak - pnl
            if fall > drawdown_quote:
                drawdown_quote = fall
                drawdown = fall / (self.invest + peak) * 100 if self.invest + peak > 0 else 0.0
        gross_loss = -sum(losses)
        return {
            "realized": realized,
            "roi": realized / self.invest * 100 if self.invest > 0 else 0.0,
            "drawdown": drawdown_quote,
            "drawdown_pct": drawdown,
            "profit_factor": sum(wins) / gross_loss if gross_loss > 0 else None,
            "win_rate": len(wins) / len(self.trades) if self.trades else None,
            "wins": len(wins),
            "closed": len(self.trades),
            "biggest_win": max(wins, default=0.0),
            "biggest_loss": min(losses, default=0.0),
        }


def _minimum(symbol: str) -> float:
    return next(
        (float(m["minimumTradeAmount"]) for m in catalogue.MARKETS if m["symbol"] == symbol), 0.0
    )


def _crossed(condition: object, kind: object, value: float, price: float) -> bool:
    if condition != "Price":
        return False  # RSI has no history here: never triggers
    return price >= value if kind == "Above value" else price <= value


def _open_profit(held: list[tuple[float, float] | None], price: float) -> float:
    """What the cells a grid holds would make if sold at ``price``."""
    return sum(qty * (price - entry) for qty, entry in filter(None, held))


def grid(bot_type: str, s: dict[str, Any], path: list[float]) -> Run:
    lower, upper = number(s.get("lowerLimit")), number(s.get("upperLimit"))
    count = int(number(s.get("gridCount")))
    run = Run(number(s.get("investmentAmount")))
    if not 0 < lower < upper or count < 1 or run.invest <= 0:
        run.log.append((0, "grid range or count not usable: no orders"))
        run.equity = [0.0] * len(path)
        return run
    count = min(count, 500)
    if s.get("gridMode") == "Geometric":
        levels = [lower * (upper / lower) ** (i / count) for i in range(count + 1)]
    else:
        levels = [lower + i * (upper - lower) / count for i in range(count + 1)]
    stake = run.invest * max(1.0, number(s.get("leverage"), 1.0)) / count
    minimum = _minimum(str(s.get("symbol", "")))
    spot = bot_type == "spot_grid"  # a futures market counts contracts: no minimum here
    held: list[tuple[float, float] | None] = [None] * count  # (qty, entry) per cell
    active = s.get("startCondition") != "Price"
    stopped = False
    max_win, max_loss = number(s.get("maxWin")), number(s.get("maxLoss"))

    def buy(i: int, price: float, hour: int) -> None:
        qty = stake / price
        if qty < minimum and spot:
            run.skipped += 1
            return
        held[i] = (qty, price)  # both fills' fees are booked with the sale
        run.orders += 1
        run.log.append((hour, f"BUY cell {i} at {price:.2f}"))

    def sell(i: int, price: float, hour: int, why: str) -> None:
        cell = held[i]
        assert cell is not None
        qty, entry = cell
        held[i] = None
        run.orders += 1
        run.close(qty, entry, price, hour, why)

    started = False
    for hour, price in enumerate(path):
        if not active and not stopped:
            active = _crossed("Price", s.get("startType"), number(s.get("startValue")), price)
        if active and not stopped:
            prev = path[hour - 1] if hour else price
            if not started:  # the cells above the price are bought at the start
                started = True
                run.log.append((hour, "grid started"))
                for i in range(count):
                    if levels[i] >= price:
                        buy(i, price, hour)
            elif price < prev:
                for i in range(count - 1, -1, -1):
                    if held[i] is None and price <= levels[i] < prev:
                        buy(i, levels[i], hour)
            elif price > prev:
                for i in range(count):
                    if held[i] is not None and prev < levels[i + 1] <= price:
                        sell(i, levels[i + 1], hour, f"SELL cell {i}")
        pnl = sum(run.trades) + _open_profit(held, price)
        if active and not stopped:
            stop = _crossed(s.get("stopCondition"), s.get("stopType"),
                            number(s.get("stopValue")), price)
            limit = (max_win > 0 and pnl >= max_win) or (max_loss > 0 and pnl <= -max_loss)
            if stop or limit:
                stopped = True
                run.log.append((hour, "stop condition met" if stop else "max win/loss reached"))
                if limit or s.get("stopExit") is True:
                    for i in range(count):
                        if held[i] is not None:
                            sell(i, price, hour, f"EXIT cell {i}")
                pnl = sum(run.trades) + _open_profit(held, price)
        run.equity.append(pnl)
    return run


def dca(bot_type: str, s: dict[str, Any], path: list[float]) -> Run:
    run = Run(number(s.get("investmentAmount")))
    short = s.get("direction") == "Short"
    dev = number(s.get("priceDeviation"), 1.0) / 100
    n = max(1, min(int(number(s.get("orderCount"), 5.0)), 50))
    scale = number(s.get("volumeScale"), 1.0)
    tp, sl = number(s.get("takeProfit"), 1.5) / 100, number(s.get("stopLoss")) / 100
    weights = [scale**k for k in range(n)]
    total = run.invest * max(1.0, number(s.get("leverage"), 1.0))
    amounts = [total * w / sum(weights) for w in weights]
    minimum = _minimum(str(s.get("symbol", "")))
    sign = -1.0 if short else 1.0
    qty = cost = 0.0
    start = filled = 0
    for hour, price in enumerate(path):
        if run.invest <= 0:
            run.equity.append(0.0)
            continue
        if filled == 0:  # a new round opens at this hour's price
            start, qty, cost = hour, 0.0, 0.0
        while filled < n:
            level = path[start] * (1 - sign * dev * filled)
            if filled and (price > level if not short else price < level):
                break
            if amounts[filled] / level >= minimum:
                qty += amounts[filled] / level
                cost += amounts[filled]
                run.orders += 1
            else:
                run.skipped += 1
            filled += 1
        if qty > 0:
            avg = cost / qty
            target, floor = avg * (1 + sign * tp), avg * (1 - sign * sl)
            if (price >= target) if not short else (price <= target):
                run.close(sign * qty, avg, target, hour, "TP")
                filled = 0
            elif sl > 0 and ((price <= floor) if not short else (price >= floor)):
                run.close(sign * qty, avg, price, hour, "SL")
                filled = 0
        open_pnl = sign * qty * (price - cost / qty) if qty and filled else 0.0
        run.equity.append(sum(run.trades) + open_pnl)
    return run


def webhook(bot_type: str, s: dict[str, Any], path: list[float]) -> Run:
    run = Run(number(s.get("investmentAmount")))
    stake = run.invest / max(1.0, number(s.get("maxOpenPositions"), 1.0))
    entry: float | None = None
    for hour, price in enumerate(path):
        fast = sum(path[max(0, hour - 11) : hour + 1]) / min(hour + 1, 12)
        slow = sum(path[max(0, hour - 47) : hour + 1]) / min(hour + 1, 48)
        if entry is None and hour >= 48 and fast > slow and stake > 0:
            entry = price
            run.orders += 1
        elif entry is not None and fast < slow:
            qty = stake / entry
            run.close(qty, entry, price, hour, "signal exit")
            run.orders += 1
            entry = None
        open_pnl = stake / entry * (price - entry) if entry else 0.0
        run.equity.append(sum(run.trades) + open_pnl)
    return run


def backtest(bot_type: str, settings: dict[str, Any], start: int, end: int) -> Run:
    """Trade ``settings`` (the script's defaults fill what is missing) over the history of
    ``end - start`` seconds."""
    s = {**catalogue.defaults(bot_type), **settings}
    path = prices(str(s.get("symbol", "")), max(1, (end - start) // HOUR))
    if bot_type.endswith("grid"):
        return grid(bot_type, s, path)
    if bot_type.endswith("dollar_cost_averaging"):
        return dca(bot_type, s, path)
    return webhook(bot_type, s, path)
