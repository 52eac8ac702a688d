"""Backoff delays and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from copytrader.platform.backoff import MAX_RETRY_AFTER, Backoff, parse_retry_after


def test_ceiling_doubles_from_base_and_is_capped() -> None:
    backoff = Backoff()
    assert [backoff.ceiling(a) for a in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.ceiling(10_000) == 30  # no overflow on absurd attempt numbers


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    backoff = Backoff(rng=random.Random(1))
    delays = [backoff.delay(4) for _ in range(2000)]
    assert all(0 <= d <= 4 for d in delays)
    assert min(delays) < 0.2 and max(delays) > 3.8  # spread over the whole range


def test_delay_never_undercuts_retry_after() -> None:
    backoff = Backoff(rng=random.Random(2))
    assert all(backoff.delay(1, retry_after=7.0) >= 7.0 for _ in range(100))
    assert backoff.delay(1, retry_after=10_000) <= MAX_RETRY_AFTER


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(max_attempts=0)
    with pytest.raises(ValueError):
        Backoff(base=-1)


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 2 ", 2.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("99999999", MAX_RETRY_AFTER),
        (format_datetime(NOW + timedelta(seconds=12), usegmt=True), 12.0),
        (format_datetime(NOW - timedelta(seconds=12), usegmt=True), 0.0),
        ("Fri, 02 Jan 2026 03:04:35 GMT", 30.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds
