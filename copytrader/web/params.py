"""Query parameters of the pages and the API, checked: a bad one is a :class:`BadParam`
naming it (a 400 with that message), never a server error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from copytrader.store import auditlog, clones, queries

#: The chart's ranges: the last day ... the last 90 days.
RANGES: dict[str, timedelta] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_RANGE = "7d"
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
API_MAX_LIMIT = 500
AUDIT_PAGE = 50
#: A chart shows the master and at most this many followers (those of the table's page).
CHART_FOLLOWERS = 20


class BadParam(ValueError):
    """A query parameter that is not acceptable; the message names it."""


def text(q: Mapping[str, str], name: str) -> str | None:
    """The parameter's value stripped, None when absent or empty."""
    raw = q.get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


def whole(q: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = text(q, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParam(f"{name}: expected a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise BadParam(f"{name}: must be {lo} to {hi}, got {value}")
    return value


def choice(q: Mapping[str, str], name: str, options: Sequence[str], default: str) -> str:
    raw = text(q, name)
    if raw is None:
        return default
    if raw not in options:
        raise BadParam(f"{name}: expected one of {', '.join(options)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class TableView:
    """How a master's clone table is shown: sort key and direction, page (from 1), size."""

    sort: str = "follower"
    descending: bool = False
    page: int = 1
    per: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per

    def params(self) -> dict[str, str]:
        """As query parameters (for links that keep the view)."""
        return {"sort": self.sort, "dir": "desc" if self.descending else "asc",
                "page": str(self.page), "per": str(self.per)}


def table_view(q: Mapping[str, str]) -> TableView:
    return TableView(
        sort=choice(q, "sort", clones.SORTS, "follower"),
        descending=choice(q, "dir", ("asc", "desc"), "asc") == "desc",
        page=whole(q, "page", 1, 1, 10**9),
        per=int(choice(q, "per", [str(n) for n in PAGE_SIZES], str(DEFAULT_PAGE_SIZE))),
    )


def chart_range(q: Mapping[str, str]) -> str:
    return choice(q, "range", list(RANGES), DEFAULT_RANGE)


def audit_filters(q: Mapping[str, str], now: datetime | None = None) -> auditlog.Filters:
    """The ``copytrader audit`` filters: master, follower, action, since, until (ISO 8601 or
    a span such as ``90m``, ``12h``, ``7d``)."""
    now = now or datetime.now(UTC)
    times: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        raw = text(q, name)
        try:
            times[name] = queries.parse_time(raw, now) if raw is not None else None
        except ValueError as exc:
            raise BadParam(f"{name}: {exc}") from None
    return auditlog.Filters(
        master=text(q, "master"),
        follower=text(q, "follower"),
        action=text(q, "action"),
        since=times["since"],
        until=times["until"],
    )


def cursor(q: Mapping[str, str]) -> str | None:
    raw = text(q, "before")
    if raw is not None:
        try:
            auditlog.parse_cursor(raw)
        except ValueError:
            raise BadParam(f"before: not a position from an earlier page ({raw!r})") from None
    return raw
