"""Simulated prices and bot profit: a seeded random walk per market.

Each market's price takes one log-normal step per ``step_seconds`` of (simulated) wall time,
generated lazily and deterministically from the seed and the symbol. A running bot's profit
over a run segment is an O(1) function of the walk at the segment's two ends: grid bots earn
from volatility (a running sum of absolute returns), DCA and webhook bots from direction.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.validation import number

SIGMA = 0.001  # per-step volatility of the walk
GRID_CAPTURE = 0.05  # share of the walked distance a grid turns into profit
GRID_EXPOSURE = 0.1  # a grid's residual exposure to the price direction
DCA_EXPOSURE = 0.5
WEBHOOK_EXPOSURE = 0.05


class _Series:
    """One market's walk: prices and the running sum of absolute log returns."""

    def __init__(self, seed: int, symbol: str, start: float) -> None:
        self._rng = random.Random(f"{seed}:{symbol}")
        self.prices = array("d", [start])
        self.travelled = array("d", [0.0])

    def extend_to(self, index: int) -> None:
        gauss = self._rng.gauss
        price = self.prices[-1]
        travelled = self.travelled[-1]
        for _ in range(index + 1 - len(self.prices)):
            step = gauss(0.0, SIGMA)
            price *= math.exp(step)
            travelled += abs(step)
            self.prices.append(price)
            self.travelled.append(travelled)


class PriceWalk:
    """Every market's price over time, advanced lazily from ``clock``."""

    def __init__(self, seed: int, clock: Callable[[], float], step_seconds: float = 1.0) -> None:
        self._seed = seed
        self._clock = clock
        self._t0 = clock()
        self._step = step_seconds
        self._series: dict[str, _Series] = {}

    def index(self) -> int:
        """The current step number (0 at creation)."""
        return max(0, int((self._clock() - self._t0) / self._step))

    def _get(self, symbol: str, index: int) -> _Series:
        series = self._series.get(symbol)
        if series is None:
            start = catalogue.START_PRICES.get(symbol)
            if start is None:  # an unknown symbol still gets a stable, plausible price
                start = random.Random(symbol).uniform(1.0, 1000.0)
            series = self._series[symbol] = _Series(self._seed, symbol, start)
        series.extend_to(index)
        return series

    def price(self, symbol: str, index: int | None = None) -> float:
        """The price of ``symbol`` at step ``index`` (default: now)."""
        i = self.index() if index is None else index
        return self._get(symbol, i).prices[i]

    def travelled(self, symbol: str, index: int) -> float:
        """The sum of absolute log returns of ``symbol`` from step 0 to ``index``."""
        return self._get(symbol, index).travelled[index]

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
