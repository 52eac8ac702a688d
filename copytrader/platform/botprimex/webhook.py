"""BotPrimeX webhook bodies (``botprimex-api.md``, "Webhooks") into inbound events.

A body is one JSON object ``{"event": NAME, "timestamp": ISO 8601, "data": {"bot_id": ...}}``;
trade events add ``trade_id, pair, side, profit_pct, profit_usd`` to ``data``. Delivery is at
least once and unordered, so nothing here assumes an order. An event name this module does
not know is valid and ignored (the platform may add events). Every problem is an
:class:`~copytrader.errors.EventError` naming the field and what is wrong with it, never
the value it holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from copytrader.core.events import ClosedTrade, EventKind, InboundEvent
from copytrader.errors import EventError

#: The documented events and what copytrader does with each.
KINDS: Mapping[str, EventKind] = {
    "bot.started": EventKind.BOT_STATE,
    "bot.stopped": EventKind.BOT_STATE,
    "bot.error": EventKind.BOT_STATE,
    "trade.closed": EventKind.TRADE_CLOSED,
    "trade.stoploss": EventKind.TRADE_CLOSED,
    "trade.opened": EventKind.IGNORED,
    "subscription.changed": EventKind.IGNORED,
    "payout.processed": EventKind.IGNORED,
}
#: Longest accepted text of each field (a bot or trade id, an event name, a pair...).
MAX_ID = 128
MAX_NAME = 100
MAX_SHORT = 64


def _reject_constant(name: str) -> Any:
    raise EventError(f"body: {name} is not a JSON number")


def decode(body: bytes) -> Any:
    """The JSON document of ``body``; EventError when it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError("body: not UTF-8 text") from None
    if not text.strip():
        raise EventError("body: empty; expected a JSON event object")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # The decoder's message names a position, never the content around it.
        raise EventError(f"body: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except RecursionError:
        raise EventError("body: JSON nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts
        raise EventError("body: a number with too many digits") from None


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _text(doc: Mapping[str, Any], key: str, where: str, limit: int) -> str:
    if key not in doc:
        raise EventError(f"{where}{key}: required")
    value = doc[key]
    if not isinstance(value, str):
        raise EventError(f"{where}{key}: expected a string, got {_kind_of(value)}")
    if not value.strip():
        raise EventError(f"{where}{key}: empty")
    if len(value) > limit:
        raise EventError(f"{where}{key}: longer than {limit} characters")
    return value


def _number(doc: Mapping[str, Any], key: str, where: str) -> float:
    if key not in doc:
        raise EventError(f"{where}{key}: required")
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(f"{where}{key}: expected a number, got {_kind_of(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise EventError(f"{where}{key}: not a finite number")
    return number


def _time(text: str, key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EventError(
            f"{key}: not an ISO 8601 time (expected e.g. 2026-01-15T10:30:00Z)"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse(doc: Any) -> InboundEvent:
    """The event of a decoded body; EventError naming the first problem found."""
    if not isinstance(doc, dict):
        raise EventError(f"body: expected a JSON object, got {_kind_of(doc)}")
    name = _text(doc, "event", "", MAX_NAME)
    timestamp = _time(_text(doc, "timestamp", "", MAX_SHORT), "timestamp")
    if "data" not in doc:
        raise EventError("data: required")
    data = doc["data"]
    if not isinstance(data, dict):
        raise EventError(f"data: expected an object, got {_kind_of(data)}")
    bot_id = _text(data, "bot_id", "data.", MAX_ID)
    kind = KINDS.get(name, EventKind.IGNORED)
    trade = None
    if kind is EventKind.TRADE_CLOSED:
        trade = ClosedTrade(
            bot_id=bot_id,
            trade_id=_text(data, "trade_id", "data.", MAX_ID),
            event=name,
            closed_at=timestamp,
            pair=_text(data, "pair", "data.", MAX_SHORT),
            side=_text(data, "side", "data.", MAX_SHORT),
            profit_pct=_number(data, "profit_pct", "data."),
            profit_usd=_number(data, "profit_usd", "data."),
        )
    return InboundEvent(name=name, kind=kind, bot_id=bot_id, timestamp=timestamp, trade=trade)


def read(body: bytes) -> InboundEvent:
    """:func:`decode` then :func:`parse`."""
    return parse(decode(body))
