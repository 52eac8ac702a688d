"""The simulated platform's mutable records: accounts, bots and trades, and their JSON."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Requests per minute of each plan (``botprimex-api.md``).
PLAN_LIMITS = {"standard": 100, "pro": 300, "enterprise": 1000}


def iso(ts: float) -> str:
    """Unix seconds as ISO 8601 UTC with a ``Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class AccountRecord:
    """One account: its key, plan, connected exchanges, bots and webhook URL."""

    name: str
    account_id: str
    key: str = field(repr=False)
    plan: str = "standard"
    email: str = ""
    #: Requests per minute; None: the plan's.
    limit: int | None = None
    exchanges: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (name, at)
    bots: dict[str, None] = field(default_factory=dict)  # ordered set of bot ids
    webhook_url: str | None = None
    #: Seconds added to every answer to this account's key (a slow account).
    latency: float = 0.0
    window: deque[float] = field(default_factory=deque, repr=False)

    @property
    def rate_limit_per_minute(self) -> int:
        return self.limit or PLAN_LIMITS.get(self.plan, 100)

    def connected(self) -> set[str]:
        return {name for name, _ in self.exchanges.values()}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "email": self.email or f"{self.name}@example.com",
            "plan": self.plan,
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }


@dataclass(slots=True)
class TradeRecord:
    """One simulated trade; ``status`` open until it is closed (at ``close_step``)."""

    trade_id: str
    bot_id: str
    pair: str
    side: str
    opened_at: float
    open_step: int
    open_price: float
    status: str = "open"
    closed_at: float | None = None
    profit_pct: float = 0.0
    profit_usd: float = 0.0
    stoploss: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.trade_id,
            "bot_id": self.bot_id,
            "pair": self.pair,
            "side": self.side,
            "status": self.status,
            "opened_at": iso(self.opened_at),
            "closed_at": iso(self.closed_at) if self.closed_at is not None else None,
            "profit_pct": round(self.profit_pct, 6),
            "profit_usd": round(self.profit_usd, 6),
        }


@dataclass(slots=True)
class BotRecord:
    """A bot as the platform stores it."""

    bot_id: str
    account: str
    name: str
    exchange: str
    pair: str
    strategy: str
    stake_amount: float
    max_open_trades: int
    stop_loss: float
    dry_run: bool
    status: str
    created_at: float
    updated_at: float
    #: Closed-trade profit so far.
    profit_usd: float = 0.0
    #: The walk step from which the next trade may open (None while not running).
    next_open: int | None = None
    open_trade: TradeRecord | None = None
    trades: list[TradeRecord] | None = None  # created lazily: most bots never trade in tests

    @property
    def profit_pct(self) -> float:
        return self.profit_usd / self.stake_amount * 100.0 if self.stake_amount > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "name": self.name,
            "status": self.status,
            "exchange": self.exchange,
            "pair": self.pair,
            "strategy": self.strategy,
            "stake_amount": self.stake_amount,
            "max_open_trades": self.max_open_trades,
            "stop_loss": self.stop_loss,
            "dry_run": self.dry_run,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "profit_usd": round(self.profit_usd, 6),
            "profit_pct": round(self.profit_pct, 6),
        }
