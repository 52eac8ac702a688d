"""The client's rate limit and concurrency cap, measured on the simulator's side."""

from __future__ import annotations

import asyncio

from copytrader.platform.haas.client import PlatformClient
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


class SteppedClock:
    """The client's clock in the rate-limit test: it moves only when a request waits for the
    window, and only once every request let through has reached the simulator. So the
    simulator's request log splits exactly by the clock time each request was let through,
    however slowly a loaded machine runs."""

    def __init__(self, sim: SimServer) -> None:
        self.sim = sim
        self.now = 0.0
        self.client: PlatformClient | None = None
        #: clock time -> requests in the simulator's log when the clock left it
        self.logged_by: dict[float, int] = {}

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert self.client is not None
        # Until every request let through is in the simulator's log (nothing to wait on but
        # the log itself, which the simulator fills in as it answers).
        while len(self.sim.state.requests) < self.client.limiter.sent:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        self.logged_by[self.now] = len(self.sim.state.requests)
        self.now += seconds

    def arrivals(self) -> dict[float, int]:
        """How many requests reached the simulator at each clock time."""
        self.logged_by[self.now] = len(self.sim.state.requests)
        counts, before = {}, 0
        for t, logged in sorted(self.logged_by.items()):
            counts[t], before = logged - before, logged
        return counts


async def test_rate_limit_holds_in_every_window(sim: SimServer, make_client: MakeClient) -> None:
    user = sim.state.create_user("BITMEX")
    observer = RecordingObserver()
    stepped = SteppedClock(sim)
    # 4 per 0.5 s: the production limiter with a short window, on the stepped clock.
    client = make_client(rate_limit_per_minute=4, rate_window=0.5, concurrency=8,
                         observer=observer, clock=stepped.clock, sleep=stepped.sleep)
    stepped.client = client
    await asyncio.gather(*(client.get_user(user) for _ in range(10)))
    # Never more than 4 in a window, and never needlessly later: 4 at once, the next 4 as
    # soon as the first window ends, the last 2 at the end of the second.
    assert stepped.arrivals() == {0.0: 4, 0.5: 4, 1.0: 2}
    assert client.requests_sent == 10 == len(sim.state.requests)
    assert len(observer.waits) == 6 and client.rate_limit_wait_seconds == 4 * 0.5 + 2 * 1.0


async def test_concurrency_cap_on_the_server_side(sim: SimServer, make_client: MakeClient) -> None:
    user = sim.state.create_user("BITMEX")
    latency = 0.25
    sim.state.latency = latency
    capped = make_client(concurrency=3)
    await asyncio.gather(*(capped.get_user(user) for _ in range(9)))
    stamps = [r.ts for r in sim.state.requests]
    # The server holds every request for at least `latency` after it arrives: requests that
    # arrived less than that apart were on the server together (a count that can only be
    # below the true one, so the cap's "at most 3" holds however slow the machine is).
    assert most_in_window(stamps, latency) == 3
    assert max(stamps) - min(stamps) >= 2 * latency  # three waves

    sim.state.requests.clear()
    uncapped = make_client(concurrency=9)
    await asyncio.gather(*(uncapped.get_user(user) for _ in range(9)))
    assert most_in_window([r.ts for r in sim.state.requests], latency) == 9
