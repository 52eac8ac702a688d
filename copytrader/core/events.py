"""Inbound platform events (webhooks) as platform-neutral values.

A platform adapter parses its own webhook body into an :class:`InboundEvent`; the daemon
acts on the event's :class:`EventKind` only, never on the platform's event name. An event is
a hint, never the truth: a bot-state event asks for a pass (which re-reads everything), a
closed trade is recorded for ROI and tracking error, and everything else is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class EventKind(enum.Enum):
    """What copytrader does with an event."""

    BOT_STATE = "bot_state"  # a bot started, stopped or failed: a pass soon
    TRADE_CLOSED = "trade_closed"  # a trade closed (take profit, stop loss...): record it
    IGNORED = "ignored"  # known or unknown, nothing to do


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One closed trade of one bot. ``(bot_id, trade_id)`` identifies it; ``event`` is the
    platform's name of the event that reported it and ``closed_at`` that event's time.
    ``profit_pct`` is the trade's profit in percent of its stake."""

    bot_id: str
    trade_id: str
    event: str
    closed_at: datetime
    pair: str
    side: str
    profit_pct: float
    profit_usd: float

    def rank(self) -> tuple[datetime, str, float, float]:
        """The order in which reports of one trade supersede each other: the latest event
        wins, and equal times are broken by the content, so that any arrival order of the
        same reports ends with the same one kept."""
        return (self.closed_at, self.event, self.profit_pct, self.profit_usd)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A valid webhook event: its platform ``name``, what to do with it, the bot it is
    about, its time, and the trade when ``kind`` is TRADE_CLOSED."""

    name: str
    kind: EventKind
    bot_id: str
    timestamp: datetime
    trade: ClosedTrade | None = None
