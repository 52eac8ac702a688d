"""The client's rate limit and concurrency cap, measured on the simulator's side."""

from __future__ import annotations

import asyncio
import time

from copytrader.sim.haas.server import SimServer
from tests.platform.conftest import MakeClient, RecordingObserver


def most_in_window(stamps: list[float], window: float) -> int:
    ordered = sorted(stamps)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_rate_limit_holds_in_every_window(sim: SimServer, make_client: MakeClient) -> None:
    user = sim.state.create_user("BITMEX")
    observer = RecordingObserver()
    # 4 per 0.5 s: the production limiter with a short window so the test takes a second.
    client = make_client(rate_limit_per_minute=4, rate_window=0.5, concurrency=8,
                         observer=observer)
    started = time.monotonic()
    await asyncio.gather(*(client.get_user(user) for _ in range(10)))
    elapsed = time.monotonic() - started
    assert len(sim.state.requests) == 10
    # When the client sent each request, on its own clock (the simulator sees arrivals,
    # which on a loaded machine lag the sends unevenly): never 5 in any 0.5 s.
    sends = [t for _, t in observer.sends]
    assert len(sends) == 10
    assert most_in_window(sends, 0.5) <= 4
    # And no slower than needed: the first 4 left at once, each later one waited for the
    # window (sends at 0, 0.5 and 1.0, however late each wake-up is on a loaded machine).
    assert len(observer.waits) == 6 and client.rate_limit_wait_seconds >= 0.5 * 4
    assert elapsed >= 1.0
    assert client.requests_sent == 10


async def test_concurrency_cap_on_the_server_side(sim: SimServer, make_client: MakeClient) -> None:
    user = sim.state.create_user("BITMEX")
    latency = 0.1
    sim.state.latency = latency
    capped = make_client(concurrency=3)
    await asyncio.gather(*(capped.get_user(user) for _ in range(9)))
    stamps = [r.ts for r in sim.state.requests]
    # Every request is held by the server for `latency`: arrivals within less than that
    # overlap on the server; with the cap there are never more than 3 of them.
    assert most_in_window(stamps, latency * 0.8) == 3
    assert max(stamps) - min(stamps) >= 2 * latency  # three waves

    sim.state.requests.clear()
    uncapped = make_client(concurrency=9)
    await asyncio.gather(*(uncapped.get_user(user) for _ in range(9)))
    assert most_in_window([r.ts for r in sim.state.requests], latency * 0.8) == 9
