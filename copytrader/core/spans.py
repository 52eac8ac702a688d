"""Times as people type them: ISO 8601 or a span back from now (``90m``, ``12h``, ``7d``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_span(text_: str) -> timedelta:
    """``30s``, ``90m``, ``12h``, ``7d``, ``2w`` as a timedelta; ValueError otherwise."""
    match = _SPAN.match(text_)
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"invalid span {text_!r}: expected a positive number and a unit "
            "s, m, h, d or w (e.g. 90m, 12h, 7d)"
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_time(text_: str, now: datetime) -> datetime:
    """An ISO 8601 time (naive means UTC) or a span (``7d``: ``now`` minus 7 days), aware UTC.

    Raises ValueError with a message naming both accepted forms.
    """
    if _SPAN.match(text_):
        return now.astimezone(UTC) - parse_span(text_)
    try:
        parsed = datetime.fromisoformat(text_.strip())
    except ValueError:
        raise ValueError(
            f"invalid time {text_!r}: expected ISO 8601 (2025-05-01T12:00:00Z) "
            "or a span like 90m, 12h, 7d"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
