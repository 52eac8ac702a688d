"""Simulated prices: a seeded random walk per market, shared by every platform's simulator.

Each market's price takes one log-normal step per ``step_seconds`` of (simulated) wall time,
generated lazily and deterministically from the seed and the symbol. Each simulator turns
the walk into its platform's profit (HaasOnline: ``sim.haas.market``; BotPrimeX: trades in
``sim.botprimex.trading``).
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Callable, Mapping

SIGMA = 0.001  # per-step volatility of the walk


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


class Walk:
    """Every market's price over time, advanced lazily from ``clock``; ``start_prices`` by
    symbol (an unknown symbol gets a stable, plausible one)."""

    def __init__(
        self,
        seed: int,
        clock: Callable[[], float],
        start_prices: Mapping[str, float],
        step_seconds: float = 1.0,
    ) -> None:
        self._seed = seed
        self._clock = clock
        self._t0 = clock()
        self._step = step_seconds
        self._starts = start_prices
        self._series: dict[str, _Series] = {}

    def index(self) -> int:
        """The current step number (0 at creation)."""
        return max(0, int((self._clock() - self._t0) / self._step))

    def _get(self, symbol: str, index: int) -> _Series:
        series = self._series.get(symbol)
        if series is None:
            start = self._starts.get(symbol)
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
