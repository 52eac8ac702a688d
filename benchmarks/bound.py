"""The lower bound a rate limit, a concurrency cap and the server's latency set on a pass.

An ideal client sends exactly the requests needed: the sweep's pages one after another
(each needs the previous page's token), then the writes, at most ``concurrency`` in flight.
Each request takes ``latency`` seconds, and a request may start only when fewer than
``rate`` requests started in the last ``window`` seconds (the sliding window copytrader's
limiter and the simulator enforce). Requests sent before the pass (``prior``, in seconds
relative to its start, so negative) count against the window too.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def ideal_seconds(
    pages: int,
    writes: int,
    *,
    rate: int | None,
    concurrency: int,
    latency: float,
    window: float = 60.0,
    prior: Iterable[float] = (),
) -> float:
    """Seconds from the pass's start until the ideal client's last write is answered."""
    starts: list[float] = sorted(prior)

    def earliest(t: float) -> float:
        # The k-th request may start a full window after the (k - rate)-th one started.
        if rate is not None and len(starts) >= rate:
            t = max(t, starts[-rate] + window)
        starts.append(t)
        return t

    t = 0.0
    for _ in range(pages):
        t = earliest(t) + latency
    finished: list[float] = []  # min-heap of the finish times of requests in flight
    end = t
    for _ in range(writes):
        ready = t
        if len(finished) >= concurrency:
            ready = max(ready, heapq.heappop(finished))
        done = earliest(ready) + latency
        heapq.heappush(finished, done)
        end = max(end, done)
    return end


def window_only_seconds(requests: int, rate: int) -> float:
    """``requests / rate`` minutes in seconds: what the rate alone imposes on a long run
    (the figure the README quotes; a sliding window lets the first ``rate`` go at once)."""
    return requests / rate * 60.0
