"""Capped, full-jitter exponential backoff that honours Retry-After.

Full jitter (a uniform draw between 0 and the capped exponential) spreads retries of many
callers over time instead of bunching them, so a platform that just recovered is not hit by
a synchronised wave.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: The longest Retry-After honoured: a broken header must not park the daemon for days.
MAX_RETRY_AFTER = 600.0


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``uniform(0, min(cap, base * 2**(attempt-1)))``."""

    base: float = 0.5
    cap: float = 30.0
    max_attempts: int = 5
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.max_attempts < 1:
            raise ValueError("base and cap must not be negative; max_attempts at least 1")

    def ceiling(self, attempt: int) -> float:
        """The largest delay after failed attempt number ``attempt`` (1-based)."""
        exponent = min(max(attempt - 1, 0), 62)  # 2**62 * base is far above any cap
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt``; never less than ``retry_after``."""
        jitter = self.rng.uniform(0.0, self.ceiling(attempt))
        if retry_after is None:
            return jitter
        return max(min(retry_after, MAX_RETRY_AFTER), jitter)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date).

    Returns None when the header is absent or unreadable, 0 for a date in the past, and at
    most :data:`MAX_RETRY_AFTER`.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
