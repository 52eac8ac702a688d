"""Realized ROI from recorded closed trades, along a series of points in time.

A bot's realized ROI at a time is the sum of the ``profit_pct`` of its trades that closed
from the start of the series up to that time (each trade's profit in percent of its
stake, so the figure does not depend on the amount a follower trades with). The follower
side is the mean over the followers counted: the given ``members`` (0 for one without a
trade yet), or when ``members`` is None the followers that have closed a trade so far. The
tracking error is follower minus master, as for the platform-reported ROI.

A series with no trade at all in its window gives None everywhere (the platform sends no
trades, or webhooks are off), so a HaasOnline history shows empty trade columns, not zeros.
Trades are fed in order of ``closed_at`` and in parts, so a long history is never held in
memory whole: only one running sum per series and the set of followers seen.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TradePoint:
    """One closed trade: when it closed, whose it is (None: the master's), its profit."""

    closed_at: datetime
    follower: str | None
    profit_pct: float


@dataclass(frozen=True, slots=True)
class Realized:
    """The realized ROI of the master and of the followers at one point of a series."""

    master: float | None
    follower: float | None

    @property
    def tracking_error(self) -> float | None:
        """Follower minus master (None when either is unknown)."""
        if self.master is None or self.follower is None:
            return None
        return self.follower - self.master


NOTHING = Realized(None, None)


class Series:
    """The realized ROI at each of ``times`` (ascending), counting the trades that closed
    at or after ``start`` (None: the first time) and at or before that time. A time
    before ``start`` gets :data:`NOTHING`. :meth:`feed` trades in ``closed_at`` order,
    then :meth:`finish`."""

    def __init__(
        self,
        times: Sequence[datetime],
        start: datetime | None = None,
        members: Collection[str] | None = None,
    ) -> None:
        self._times = times
        self._begin = start if start is not None or not times else times[0]
        self._members = frozenset(members) if members is not None else None
        self._master = 0.0
        self._followers = 0.0
        self._traded: set[str] = set()
        self._seen = False
        self._next = 0
        self._out: list[Realized] = []

    @property
    def begin(self) -> datetime | None:
        """The first moment whose trades count."""
        return self._begin

    def _emit_until(self, at: datetime | None) -> None:
        """Close every time before ``at`` (all of them when None)."""
        while self._next < len(self._times) and (at is None or self._times[self._next] < at):
            t = self._times[self._next]
            self._next += 1
            if self._begin is None or t < self._begin:
                self._out.append(NOTHING)
            elif self._members is not None:
                self._out.append(Realized(self._master, self._followers / len(self._members)
                                          if self._members else None))
            else:
                mean = self._followers / len(self._traded) if self._traded else None
                self._out.append(Realized(self._master, mean))

    def feed(self, trades: Iterable[TradePoint]) -> None:
        """Count ``trades`` (in ``closed_at`` order, after every trade fed before)."""
        for trade in trades:
            if self._begin is None or trade.closed_at < self._begin:
                continue
            self._emit_until(trade.closed_at)
            if self._next >= len(self._times):
                return  # past the last time: nothing more counts
            if trade.follower is None:
                self._master += trade.profit_pct
            elif self._members is None or trade.follower in self._members:
                self._followers += trade.profit_pct
                self._traded.add(trade.follower)
            else:
                continue
            self._seen = True

    def finish(self) -> list[Realized]:
        """One value per time; :data:`NOTHING` everywhere when no trade counted."""
        self._emit_until(None)
        if not self._seen:
            return [NOTHING] * len(self._times)
        return self._out


def series(
    times: Sequence[datetime],
    trades: Iterable[TradePoint],
    start: datetime | None = None,
    members: Collection[str] | None = None,
) -> list[Realized]:
    """:class:`Series` in one call (``trades`` in any order)."""
    s = Series(times, start, members)
    s.feed(sorted(trades, key=lambda t: t.closed_at))
    return s.finish()
