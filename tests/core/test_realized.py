"""Realized ROI and tracking error from closed trades: a table of cases, then properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from copytrader.core.realized import NOTHING, Realized, Series, TradePoint, series

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def trade(minutes: float, follower: str | None, pct: float) -> TradePoint:
    return TradePoint(at(minutes), follower, pct)


TIMES = [at(0), at(10), at(20), at(30)]

# (case, trades, start, members, expected (master, follower) per time)
CASES: list[tuple[str, list[TradePoint], datetime | None, tuple[str, ...] | None,
                  list[tuple[float | None, float | None]]]] = [
    ("no trades: nothing anywhere", [], None, None, [(None, None)] * 4),
    ("trades only outside the window", [trade(-5, None, 1.0), trade(31, "f1", 1.0)], None, None,
     [(None, None)] * 4),
    ("master only: followers unknown", [trade(5, None, 2.0), trade(25, None, -0.5)], None, None,
     [(0.0, None), (2.0, None), (2.0, None), (1.5, None)]),
    ("a trade exactly at a time counts at that time", [trade(10, None, 1.0)], None, None,
     [(0.0, None), (1.0, None), (1.0, None), (1.0, None)]),
    ("mean over the followers that traded so far",
     [trade(1, None, 2.0), trade(2, "f1", 1.0), trade(12, "f2", 3.0), trade(13, "f1", 1.0)],
     None, None,
     [(0.0, None), (2.0, 1.0), (2.0, 2.5), (2.0, 2.5)]),
    ("members: one follower, zero until its first trade",
     [trade(1, None, 2.0), trade(2, "f2", 9.0), trade(15, "f1", 1.5)], None, ("f1",),
     [(0.0, 0.0), (2.0, 0.0), (2.0, 1.5), (2.0, 1.5)]),
    ("start: earlier trades and times before it do not count",
     [trade(1, None, 5.0), trade(15, None, 1.0), trade(16, "f1", 0.5)], at(10), ("f1",),
     [(None, None), (0.0, 0.0), (1.0, 0.5), (1.0, 0.5)]),
    ("start before the first time counts trades from it",
     [trade(-10, None, 1.0), trade(-20, None, 7.0)], at(-15), None,
     [(1.0, None), (1.0, None), (1.0, None), (1.0, None)]),
]


@pytest.mark.parametrize(("trades", "start", "members", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cases(trades: list[TradePoint], start: datetime | None,
               members: tuple[str, ...] | None,
               expected: list[tuple[float | None, float | None]]) -> None:
    got = series(TIMES, trades, start, members)
    assert [(r.master, r.follower) for r in got] == expected


def test_tracking_error_is_follower_minus_master() -> None:
    assert Realized(2.0, 1.5).tracking_error == -0.5
    assert Realized(None, 1.0).tracking_error is None
    assert Realized(1.0, None).tracking_error is None
    assert NOTHING.tracking_error is None
    assert series([], [trade(1, None, 1.0)]) == []


def test_feeding_in_parts_gives_the_same_as_all_at_once() -> None:
    rng = random.Random(7)
    times = sorted(at(rng.uniform(0, 1000)) for _ in range(50))
    trades = sorted((trade(rng.uniform(-50, 1050), rng.choice([None, "a", "b", "c"]),
                           rng.uniform(-5, 5)) for _ in range(400)), key=lambda t: t.closed_at)
    whole = series(times, trades)
    for size in (1, 7, 100):
        s = Series(times)
        for i in range(0, len(trades), size):
            s.feed(trades[i:i + size])
        assert s.finish() == whole
    # The last value is the straightforward sum over the window.
    window = [t for t in trades if times[0] <= t.closed_at <= times[-1]]
    master = sum(t.profit_pct for t in window if t.follower is None)
    followers = {t.follower for t in window if t.follower}
    mean = sum(t.profit_pct for t in window if t.follower) / len(followers)
    assert whole[-1].master == pytest.approx(master)
    assert whole[-1].follower == pytest.approx(mean)
