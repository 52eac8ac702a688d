"""The limiter with a fake clock: minutes of traffic in milliseconds."""

from __future__ import annotations

import asyncio
import random

import pytest

from copytrader.platform.ratelimit import URGENCY, RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # let every task that is ready run (and queue) first
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def max_in_window(times: list[float], window: float) -> int:
    """The most sends in any half-open window ``[t, t + window)`` (1 ns slack for float sums)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - window + 1e-9:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def send_all(limiter: RateLimiter, fake: FakeTime, count: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        async with limiter.slot():
            times.append(fake.clock())

    await asyncio.gather(*(one() for _ in range(count)))
    return times


async def test_forty_requests_at_thirty_per_minute() -> None:
    fake = FakeTime()
    limiter = RateLimiter(30, concurrency=40, clock=fake.clock, sleep=fake.sleep)
    times = await send_all(limiter, fake, 40)
    assert sorted(times)[:30] == [0.0] * 30
    assert sorted(times)[30:] == [60.0] * 10  # the 31st waits a full minute, not 2 s
    assert max_in_window(times, 60.0) == 30
    assert limiter.sent == 40
    assert limiter.waited == pytest.approx(60.0 * 10)


async def test_window_slides_over_start_times_not_a_refilling_bucket() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, concurrency=10, clock=fake.clock, sleep=fake.sleep)
    times = await send_all(limiter, fake, 4)  # 4 at t=0
    fake.now = 50.0
    times += await send_all(limiter, fake, 6)  # 6 at t=50: the window is full
    fake.now = 55.0
    times += await send_all(limiter, fake, 5)
    # 4 slots free at t=60 (the sends of t=0), the 5th only at t=110 (the sends of t=50).
    assert sorted(times)[-5:] == [60.0, 60.0, 60.0, 60.0, 110.0]
    assert max_in_window(times, 60.0) == 10


async def test_random_bursts_never_exceed_the_limit_in_any_window() -> None:
    rng = random.Random(3)
    fake = FakeTime()
    limiter = RateLimiter(7, window=10.0, concurrency=3, clock=fake.clock, sleep=fake.sleep)
    times: list[float] = []
    for _ in range(30):
        fake.now += rng.uniform(0, 4)
        times += await send_all(limiter, fake, rng.randint(1, 5))
    assert max_in_window(times, 10.0) <= 7


async def test_block_holds_every_queued_request_and_never_shortens() -> None:
    fake = FakeTime()
    limiter = RateLimiter(None, concurrency=6, clock=fake.clock, sleep=fake.sleep)
    limiter.block_for(5.0)
    limiter.block_for(2.0)  # a shorter Retry-After later must not lift the longer block
    assert limiter.blocked_until == 5.0
    times = await send_all(limiter, fake, 6)
    assert min(times) >= 5.0
    assert limiter.waited == pytest.approx(5.0 * 6)  # each of the six waited 5 s


async def test_block_set_while_waiting_is_rechecked() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, window=1.0, concurrency=2, clock=fake.clock, sleep=fake.sleep)
    sent: list[float] = []

    async with limiter.slot():
        sent.append(fake.now)
        # A 429 answered now blocks for 10 s; the next request (waiting for the window) obeys it.
        limiter.block_for(10.0)
    async with limiter.slot():
        sent.append(fake.now)
    assert sent == [0.0, 10.0]


async def test_concurrency_cap_counts_in_flight() -> None:
    limiter = RateLimiter(None, concurrency=3)
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.005)

    await asyncio.gather(*(one() for _ in range(12)))
    assert peak == 3
    assert limiter.in_flight == 0
    assert limiter.sent == 12


async def test_slot_is_released_when_the_request_fails() -> None:
    limiter = RateLimiter(None, concurrency=1)
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError("boom")
    async with asyncio.timeout(1):
        async with limiter.slot():
            assert limiter.in_flight == 1


async def _send_as(
    limiter: RateLimiter, fake: FakeTime, name: str, urgency: int, order: list[str]
) -> None:
    URGENCY.set(urgency)  # this task's requests (gather runs each in a task of its own)
    async with limiter.slot():
        order.append(f"{name}@{fake.now:g}")


async def test_waiting_requests_leave_most_urgent_first_then_first_come() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, window=1.0, concurrency=10, clock=fake.clock, sleep=fake.sleep)
    order: list[str] = []
    urgencies = {"edit1": 1, "clone1": 2, "stop1": 0, "edit2": 1, "delete1": 0, "start1": 2}
    await asyncio.gather(*(_send_as(limiter, fake, n, u, order) for n, u in urgencies.items()))
    # The first came when the window was empty; then one a second, most urgent first.
    assert order == ["edit1@0", "stop1@1", "delete1@2", "edit2@3", "clone1@4", "start1@5"]


async def test_an_urgent_request_overtakes_one_already_sleeping_for_the_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, window=10.0, concurrency=10, clock=fake.clock, sleep=fake.sleep)
    order: list[str] = []
    await _send_as(limiter, fake, "sweep", 0, order)
    edit = asyncio.create_task(_send_as(limiter, fake, "edit", 1, order))
    await asyncio.sleep(0)  # the edit is at the head, sleeping until t=10
    assert limiter.sent == 1 and not edit.done()
    stop = asyncio.create_task(_send_as(limiter, fake, "stop", 0, order))
    await asyncio.gather(edit, stop)
    assert order == ["sweep@0", "stop@10", "edit@20"]
    assert limiter.sent == 3


async def test_waiting_for_a_place_in_flight_is_most_urgent_first_too() -> None:
    limiter = RateLimiter(None, concurrency=1)
    release = asyncio.Event()
    order: list[str] = []

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    async def send(name: str, urgency: int) -> None:
        URGENCY.set(urgency)
        async with limiter.slot():
            order.append(name)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(send(n, u)) for n, u in (("edit", 1), ("clone", 2), ("stop", 0))]
    await asyncio.sleep(0.01)
    assert order == [] and limiter.in_flight == 1
    release.set()
    async with asyncio.timeout(1):
        await asyncio.gather(holder, *waiting)
    assert order == ["stop", "edit", "clone"]
    assert limiter.in_flight == 0
    assert limiter.waited == 0.0  # a place in flight is not the rate limit


async def test_a_cancelled_waiter_hands_its_turn_on() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, window=1.0, concurrency=10, clock=fake.clock, sleep=fake.sleep)
    order: list[str] = []
    await _send_as(limiter, fake, "first", 0, order)
    doomed = asyncio.create_task(_send_as(limiter, fake, "doomed", 0, order))
    later = asyncio.create_task(_send_as(limiter, fake, "later", 1, order))
    await asyncio.sleep(0)
    doomed.cancel()
    async with asyncio.timeout(1):
        await later
    assert order == ["first@0", "later@1"]
    assert limiter.sent == 2


@pytest.mark.parametrize(
    ("limit", "window", "concurrency"), [(0, 60.0, 1), (5, 0.0, 1), (5, 60.0, 0)]
)
def test_rejects_nonsense_settings(limit: int, window: float, concurrency: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit, window=window, concurrency=concurrency)
