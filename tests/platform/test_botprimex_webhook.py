"""BotPrimeX webhook bodies: what is an event, what it means, and a message per problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from copytrader.core.events import ClosedTrade, EventKind
from copytrader.errors import EventError
from copytrader.platform.botprimex import webhook

TS = "2026-01-15T10:30:00Z"
AT = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
TRADE = {"bot_id": "bot_a1", "trade_id": "trade_9", "pair": "BTC/USDT", "side": "buy",
         "profit_pct": 2.5, "profit_usd": 12.25}


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("name", "kind"), [
    ("bot.started", EventKind.BOT_STATE),
    ("bot.stopped", EventKind.BOT_STATE),
    ("bot.error", EventKind.BOT_STATE),
    ("trade.opened", EventKind.IGNORED),
    ("subscription.changed", EventKind.IGNORED),
    ("payout.processed", EventKind.IGNORED),
    ("bot.renamed", EventKind.IGNORED),  # not documented: accepted, ignored
    ("x", EventKind.IGNORED),
])
def test_bot_and_other_events(name: str, kind: EventKind) -> None:
    event = webhook.read(body({"event": name, "timestamp": TS, "data": {"bot_id": "bot_a1"}}))
    assert (event.name, event.kind, event.bot_id, event.timestamp) == (name, kind, "bot_a1", AT)
    assert event.trade is None


@pytest.mark.parametrize("name", ["trade.closed", "trade.stoploss"])
def test_trade_events_carry_the_trade(name: str) -> None:
    event = webhook.read(body({"event": name, "timestamp": "2026-01-15T11:30:00+01:00",
                               "data": {**TRADE, "profit_usd": -3}}))
    assert event.kind is EventKind.TRADE_CLOSED
    assert event.trade == ClosedTrade("bot_a1", "trade_9", name, AT, "BTC/USDT", "buy", 2.5, -3.0)


def test_a_naive_timestamp_is_utc_and_extra_fields_are_fine() -> None:
    event = webhook.read(body({"event": "bot.error", "timestamp": "2026-01-15T10:30:00",
                               "data": {"bot_id": "b", "reason": "exchange down"}, "id": 7}))
    assert event.timestamp == AT


# (the body, the message it must get). Each names the field and the problem, not the value.
BAD: list[tuple[bytes, str]] = [
    (b"", "body: empty; expected a JSON event object"),
    (b"   \n", "body: empty"),
    (b"\xff\xfe{}", "body: not UTF-8 text"),
    (b"{not json", "body: not JSON: Expecting property name enclosed in double quotes at line 1"),
    (b'{"event": NaN}', "body: NaN is not a JSON number"),
    (b'{"a": Infinity}', "body: Infinity is not a JSON number"),
    (b"[" * 100_000 + b"]" * 100_000, "body: JSON nested too deeply"),
    (b'{"n": ' + b"9" * 5000 + b"}", "body: a number with too many digits"),
    (body([1, 2]), "body: expected a JSON object, got an array"),
    (body("bot.started"), "body: expected a JSON object, got a string"),
    (body(None), "body: expected a JSON object, got null"),
    (body({"timestamp": TS, "data": {"bot_id": "b"}}), "event: required"),
    (body({"event": 3, "timestamp": TS, "data": {"bot_id": "b"}}),
     "event: expected a string, got a number"),
    (body({"event": "", "timestamp": TS, "data": {"bot_id": "b"}}), "event: empty"),
    (body({"event": "e" * 101, "timestamp": TS, "data": {"bot_id": "b"}}),
     "event: longer than 100 characters"),
    (body({"event": "bot.started", "data": {"bot_id": "b"}}), "timestamp: required"),
    (body({"event": "bot.started", "timestamp": 1736937000, "data": {"bot_id": "b"}}),
     "timestamp: expected a string, got a number"),
    (body({"event": "bot.started", "timestamp": "yesterday", "data": {"bot_id": "b"}}),
     "timestamp: not an ISO 8601 time"),
    (body({"event": "bot.started", "timestamp": TS}), "data: required"),
    (body({"event": "bot.started", "timestamp": TS, "data": ["b"]}),
     "data: expected an object, got an array"),
    (body({"event": "bot.started", "timestamp": TS, "data": {}}), "data.bot_id: required"),
    (body({"event": "some.new.event", "timestamp": TS, "data": {"bot_id": True}}),
     "data.bot_id: expected a string, got true/false"),
    (body({"event": "bot.started", "timestamp": TS, "data": {"bot_id": "b" * 129}}),
     "data.bot_id: longer than 128 characters"),
    (body({"event": "trade.closed", "timestamp": TS, "data": {"bot_id": "b"}}),
     "data.trade_id: required"),
    (body({"event": "trade.closed", "timestamp": TS,
           "data": {k: v for k, v in TRADE.items() if k != "profit_pct"}}),
     "data.profit_pct: required"),
    (body({"event": "trade.stoploss", "timestamp": TS, "data": {**TRADE, "profit_pct": "2.5"}}),
     "data.profit_pct: expected a number, got a string"),
    (body({"event": "trade.closed", "timestamp": TS, "data": {**TRADE, "profit_usd": False}}),
     "data.profit_usd: expected a number, got true/false"),
    (body({"event": "trade.closed", "timestamp": TS, "data": {**TRADE, "profit_usd": 0}})
     .replace(b'"profit_usd": 0', b'"profit_usd": 1e999'), "data.profit_usd: not a finite number"),
    (body({"event": "trade.closed", "timestamp": TS, "data": {**TRADE, "pair": {}}}),
     "data.pair: expected a string, got an object"),
    (body({"event": "trade.closed", "timestamp": TS, "data": {**TRADE, "side": None}}),
     "data.side: expected a string, got null"),
]


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[m for _, m in BAD])
def test_every_bad_body_is_refused_naming_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(EventError) as info:
        webhook.read(raw)
    assert str(info.value).startswith(message)


def test_messages_never_carry_the_value() -> None:
    canary = "canary-value-Zq81"
    for doc in ({"event": "bot.started", "timestamp": canary, "data": {"bot_id": "b"}},
                {"event": "trade.closed", "timestamp": TS,
                 "data": {**TRADE, "profit_pct": canary}}):
        with pytest.raises(EventError) as info:
            webhook.read(body(doc))
        assert canary not in str(info.value)
