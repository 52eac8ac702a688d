"""HaasOnline bot profit from the shared price walk (:mod:`copytrader.sim.market`).

A running bot's profit over a run segment is an O(1) function of the walk at the segment's
two ends: grid bots earn from volatility (a running sum of absolute returns), DCA and webhook
bots from direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.validation import number
from copytrader.sim.market import Walk

GRID_CAPTURE = 0.05  # share of the walked distance a grid turns into profit
GRID_EXPOSURE = 0.1  # a grid's residual exposure to the price direction
DCA_EXPOSURE = 0.5
WEBHOOK_EXPOSURE = 0.05


class PriceWalk(Walk):
    """Every market's price over time (the catalogue's start prices), and bot profit."""

    def __init__(self, seed: int, clock: Callable[[], float], step_seconds: float = 1.0) -> None:
        super().__init__(seed, clock, catalogue.START_PRICES, step_seconds)

    def segment_profit(
        self, bot_type: str, settings: Mapping[str, Any], start: int, end: int
    ) -> float:
        """Profit (quote currency) a bot with ``settings`` makes running from step start to end."""
        if end <= start:
            return 0.0
        symbol = str(settings.get("symbol", ""))
        invest = number(settings.get("investmentAmount"))
        leverage = max(1.0, number(settings.get("leverage"), 1.0))
        p0, p1 = self.price(symbol, start), self.price(symbol, end)
        move = p1 / p0 - 1.0
        if bot_type in ("spot_grid", "futures_grid"):
            lower = number(settings.get("lowerLimit"))
            upper = number(settings.get("upperLimit"))
            in_range = not (0 < lower < upper) or lower <= p1 <= upper
            walked = self.travelled(symbol, end) - self.travelled(symbol, start)
            capture = GRID_CAPTURE if in_range else GRID_CAPTURE / 5
            return invest * leverage * (capture * walked + GRID_EXPOSURE * move)
        if bot_type.endswith("dollar_cost_averaging"):
            sign = -1.0 if settings.get("direction") == "Short" else 1.0
            return invest * leverage * sign * DCA_EXPOSURE * move
        return invest * WEBHOOK_EXPOSURE * move
