"""What the platform client let through, on its own clock: a ``RequestObserver`` that keeps
every send and every Retry-After block, and the check of the Retry-After guarantee on them.

The guarantee is about the client: once a 429 has arrived, nothing is sent before its
arrival plus Retry-After. The simulator's log says when each request *arrived* there, which
on a loaded machine can be long after the client sent it (the simulator shares the test's
event loop), so a request already on its way when the 429 arrived looks "inside" the window
there. Here both ends are the client's: the moment the limiter let each request through and
the moment each 429 arrived, on the limiter's clock, compared exactly, with no slack.
"""

from __future__ import annotations


class SendLog:
    """A RequestObserver that keeps what it was told."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, float]] = []
        self.waits: list[float] = []
        self.sends: list[tuple[str, float]] = []
        self.blocks: list[tuple[str, float, float]] = []
        #: The limiter (BotPrimeX: the account) of each send and each block, in order.
        self.send_limiters: list[str] = []
        self.block_limiters: list[str] = []

    def on_request(self, endpoint: str, status: str, seconds: float) -> None:
        self.requests.append((endpoint, status, seconds))

    def on_rate_limit_wait(self, seconds: float) -> None:
        self.waits.append(seconds)

    def on_send(self, endpoint: str, at: float, limiter: str) -> None:
        self.sends.append((endpoint, at))
        self.send_limiters.append(limiter)

    def on_rate_limited(self, endpoint: str, at: float, seconds: float, limiter: str) -> None:
        self.blocks.append((endpoint, at, seconds))
        self.block_limiters.append(limiter)


def check_retry_after(log: SendLog) -> None:
    """No request was let through after a 429 arrived and before its Retry-After ended (by
    the limiter that got the 429: on BotPrimeX each account has its own)."""
    for (endpoint, at, seconds), limiter in zip(log.blocks, log.block_limiters, strict=True):
        mine = [s for s, by in zip(log.sends, log.send_limiters, strict=True) if by == limiter]
        early = [(e, round(t - at, 4)) for e, t in mine if at < t < at + seconds]
        assert not early, (
            f"{len(early)} request(s) sent inside the Retry-After window ({seconds:g}s) of a 429 "
            f"on {endpoint}, at seconds after it arrived: {early}"
        )
