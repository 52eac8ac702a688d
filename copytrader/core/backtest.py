"""A policy's backtest as values: which distinct settings to run, and the report.

``copytrader policy backtest`` runs the platform's backtest of each *distinct* desired
settings of a policy's followers (computed by the planner's own code,
:mod:`copytrader.core.desired`), and of the master's own settings beside them: followers
whose settings are identical (to each other, or to the master's) share one run
(:func:`variants`). :class:`Report` sets each follower's figures beside the master's, with
the difference. Pure: the runs themselves are the service's (:mod:`copytrader.backtest`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copytrader.core.desired import DesiredClone
from copytrader.core.model import Scalar


class State(enum.StrEnum):
    """A backtest's state as the platform reports it (anything else: UNKNOWN)."""

    LOADING_SCRIPT = "loading_script"
    LOADING_DATA = "loading_data"
    EXECUTING = "executing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object) -> State:
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN

    @property
    def finished(self) -> bool:
        return self in (State.COMPLETED, State.FAILED, State.CANCELLED)


@dataclass(frozen=True)
class Request:
    """One backtest to start: a bot type and settings, for a user, over a time window."""

    user_id: str
    type: str
    exchange_id: str
    settings: Mapping[str, Scalar]
    start_unix: int
    end_unix: int


@dataclass(frozen=True)
class Status:
    """Where a running backtest stands (``progress`` 0..100)."""

    backtest_id: str
    state: State
    progress: int = 0
    message: str = ""


@dataclass(frozen=True)
class Metrics:
    """A completed backtest's figures. ROI and the drawdown are percent (the drawdown as a
    positive fall from the peak), ``win_rate`` a share 0..1; None where the platform gave
    none (a profit factor with no losing trade)."""

    roi: float | None
    max_drawdown_pct: float | None
    profit_factor: float | None
    win_rate: float | None
    profit: float | None = None
    trades: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "roi": self.roi,
            "max_drawdown_pct": self.max_drawdown_pct,
            "profit_factor": self.profit_factor,
            "win_rate": self.win_rate,
            "profit": self.profit,
            "trades": self.trades,
        }


#: The figures compared with the master's, in report order.
COMPARED = ("roi", "max_drawdown_pct", "profit_factor", "win_rate")


def difference(mine: Metrics, master: Metrics) -> dict[str, float | None]:
    """``mine`` minus ``master`` for each compared figure (None when either is missing)."""
    out: dict[str, float | None] = {}
    for name in COMPARED:
        a, b = getattr(mine, name), getattr(master, name)
        out[name] = None if a is None or b is None else round(a - b, 6)
    return out


@dataclass(frozen=True)
class Variant:
    """One distinct settings to backtest, and who has them: the master (``master`` True)
    and/or followers (in policy order)."""

    settings: Mapping[str, Scalar]
    followers: tuple[str, ...]
    master: bool = False

    @property
    def label(self) -> str:
        """A short name for people: ``master``, or the first follower (+ how many more)."""
        if self.master:
            name, others = "master", len(self.followers)
        else:
            name, others = self.followers[0][:8], len(self.followers) - 1
        return name + (f" (+{others} same)" if others else "")


def _key(settings: Mapping[str, Scalar]) -> tuple[tuple[str, str, str], ...]:
    # Compared as the planner compares (1 and 1.0 equal, True and 1 not): by type and value.
    return tuple(sorted((k, type(v).__name__, repr(v)) for k, v in settings.items()))


def variants(master: Mapping[str, Scalar], desired: Sequence[DesiredClone]) -> list[Variant]:
    """The master's settings first, then each distinct desired settings in policy order;
    identical settings run once (a follower whose settings are the master's shares its)."""
    order: list[tuple[tuple[tuple[str, str, str], ...], Mapping[str, Scalar]]] = []
    who: dict[tuple[tuple[str, str, str], ...], list[str]] = {}
    first = _key(master)
    order.append((first, master))
    who[first] = []
    for want in desired:
        key = _key(want.settings)
        if key not in who:
            who[key] = []
            order.append((key, want.settings))
        who[key].append(want.follower)
    return [Variant(settings, tuple(who[key]), key == first) for key, settings in order]


@dataclass(frozen=True)
class Outcome:
    """How one variant's backtest ended: its id (None if it never started), its final
    state, its figures when completed, and why not otherwise."""

    variant: Variant
    backtest_id: str | None
    state: State
    metrics: Metrics | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        figures = self.metrics or Metrics(None, None, None, None)
        return {
            "backtest": self.backtest_id,
            "state": self.state.value,
            **figures.to_json(),
            "error": self.error,
        }


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Report:
    """Every variant's outcome for one policy file, the master's first."""

    master: str
    file: str
    days: int
    start_unix: int
    end_unix: int
    outcomes: tuple[Outcome, ...]
    order: tuple[str, ...] = ()  # the policy's followers, in file order
    paused: frozenset[str] = frozenset()

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """The backtests that did not complete (failed, cancelled, never started)."""
        return tuple(o for o in self.outcomes if o.state is not State.COMPLETED)

    @property
    def master_outcome(self) -> Outcome:
        return next(o for o in self.outcomes if o.variant.master)

    def rows(self) -> list[tuple[str | None, Outcome]]:
        """(follower or None for the master's own, outcome): the master first, then each
        follower in policy order."""
        by_follower = {f: o for o in self.outcomes for f in o.variant.followers}
        listed = [(f, by_follower[f]) for f in self.order if f in by_follower]
        return [(None, self.master_outcome), *listed]

    def to_json(self) -> dict[str, Any]:
        """``{"master", "file", "days", "start", "end", "backtests", "master_result",
        "followers": [{"follower", "paused", "same_as", ...RESULT, "diff"}]}``."""
        master = self.master_outcome
        followers = []
        for follower, outcome in self.rows()[1:]:
            assert follower is not None
            diff = (
                difference(outcome.metrics, master.metrics)
                if outcome.metrics is not None and master.metrics is not None
                else None
            )
            followers.append(
                {
                    "follower": follower,
                    "paused": follower in self.paused,
                    "same_as_master": outcome.variant.master,
                    **outcome.to_json(),
                    "diff": diff,
                }
            )
        return {
            "master": self.master,
            "file": self.file,
            "days": self.days,
            "start": _iso(self.start_unix),
            "end": _iso(self.end_unix),
            "backtests": len(self.outcomes),
            "master_result": master.to_json(),
            "followers": followers,
        }


def finite(value: object) -> float | None:
    """A figure from the platform as a finite float, or None (missing, text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None
