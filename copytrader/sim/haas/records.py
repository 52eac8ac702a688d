"""The simulator's mutable records of bots and users, and their JSON views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from copytrader.sim.haas.market import PriceWalk
from copytrader.sim.haas.validation import number


@dataclass(slots=True)
class BotRecord:
    """A bot as the platform stores it; profit accrues per run segment (see market.py)."""

    bot_id: str
    user_id: str
    type: str
    exchange_id: str
    settings: dict[str, Any]
    status: str
    created_at: int
    master_bot_id: str = ""
    cloned: int = 0
    followers: int = 0
    realized: float = 0.0  # profit of finished run segments
    run_start: int | None = None  # walk step the current run began at, None when not running
    # Created lazily: most bots of a 100,000-bot benchmark never need them.
    events: list[tuple[int, str, str]] | None = None
    closed: list[dict[str, Any]] | None = None
    pinned_roi: float | None = None  # set through the control API: the ROI reported as is

    def roi(self, walk: PriceWalk, now: int) -> tuple[float, float]:
        """``(profit, roi)`` as reported: the pinned ROI when one is set, else the walk's."""
        invest = number(self.settings.get("investmentAmount"))
        if self.pinned_roi is not None:
            return self.pinned_roi * invest / 100.0, self.pinned_roi
        profit = self.profit(walk, now)
        return profit, (profit / invest * 100.0 if invest > 0 else 0.0)

    def profit(self, walk: PriceWalk, now: int) -> float:
        """Total profit so far: finished segments plus the running one up to step ``now``."""
        if self.run_start is None:
            return self.realized
        return self.realized + walk.segment_profit(self.type, self.settings, self.run_start, now)

    def log(self, ts: int, severity: str, message: str) -> None:
        """Append a line to the bot's log."""
        if self.events is None:
            self.events = []
        self.events.append((ts, severity, message))

    def to_json(self, walk: PriceWalk, now: int) -> dict[str, Any]:
        """The Bot object of the partner API (a fresh dict; settings copied)."""
        profit, roi = self.roi(walk, now)
        return {
            "userId": self.user_id,
            "botId": self.bot_id,
            "status": self.status,
            "masterBotId": self.master_bot_id,
            "createdAt": self.created_at,
            "type": self.type,
            "exchangeId": self.exchange_id,
            "settings": dict(self.settings),
            "profit": round(profit, 6),
            "roi": round(roi, 6),
            "cloned": self.cloned,
            "followers": self.followers,
        }


@dataclass(slots=True)
class UserRecord:
    """A platform user. The exchange keys are kept but never sent anywhere."""

    user_id: str
    exchange_id: str
    created_at: int
    exchange_user_id: str | None = None
    public_key: str = field(default="sim", repr=False)
    secret_key: str = field(default="sim", repr=False)
    extra_key: str | None = field(default=None, repr=False)
    bots_started: int = 0  # start events ever (create-and-start counts)
    bots_active: int = 0  # bots running now
    bots: dict[str, None] = field(default_factory=dict)  # ordered set of bot ids

    def to_json(self) -> dict[str, Any]:
        """The User object of the partner API (no keys)."""
        return {
            "userId": self.user_id,
            "exchangeId": self.exchange_id,
            "exchangeUserId": self.exchange_user_id,
            "createdAt": self.created_at,
            "botsStarted": self.bots_started,
            "botsActive": self.bots_active,
        }


@dataclass
class BacktestRule:
    """Fault injection for backtests: the next ``times`` backtests (-1: every one) whose
    settings hold every key and value of ``match`` take ``seconds`` of real time to run
    (progress by the clock, not by polls) and/or end ``failed`` with ``fail`` as message."""

    match: dict[str, Any] = field(default_factory=dict)
    fail: str | None = None
    seconds: float | None = None
    times: int = -1

    @classmethod
    def from_json(cls, data: object) -> BacktestRule:
        """A rule from the control API's body; ValueError naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a backtest rule is an object")
        unknown = set(data) - {"match", "fail", "seconds", "times"}
        if unknown:
            raise ValueError(f"unknown backtest rule fields: {sorted(unknown)}")
        rule = cls(**data)
        if not isinstance(rule.match, dict):
            raise ValueError("match must be an object of setting values")
        if rule.fail is not None and not isinstance(rule.fail, str):
            raise ValueError("fail must be a message")
        if rule.seconds is not None and (
            not isinstance(rule.seconds, int | float) or rule.seconds < 0
        ):
            raise ValueError("seconds must be a number, 0 or more")
        if not isinstance(rule.times, int) or rule.times == 0 or rule.times < -1:
            raise ValueError("times must be -1 or positive")
        return rule

    def matches(self, settings: dict[str, Any]) -> bool:
        return all(settings.get(k) == v for k, v in self.match.items())
