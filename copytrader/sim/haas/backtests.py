"""Handlers of the backtest and signal endpoints.

A backtest moves one stage per status poll (loading_script, loading_data, executing 50%,
completed), or completes after ``BACKTEST_SECONDS`` of real time, whichever comes first, so
clients can exercise polling without waiting. Results are deterministic for equal requests.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from typing import Any

from copytrader.sim.haas.state import SimState
from copytrader.sim.haas.validation import (
    check_settings,
    check_type,
    conflict,
    invalid,
    not_found,
    required_str,
)

Body = dict[str, Any]
Params = dict[str, str]
BACKTEST_SECONDS = 2.0
STAGES = [("loading_script", 0, "Loading script"), ("loading_data", 0, "Loading price data"),
          ("executing", 50, "Processing historical data..."), ("completed", 100, "Completed")]
SIGNAL_ACTIONS = frozenset({"buy", "sell", "enter_long", "exit_long", "enter_short",
                            "exit_short"})


def _int(body: Body, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"{key} must be an integer")
    return value


def backtest_run(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/backtest: start a backtest."""
    user = state.user(required_str(body, "userId"))
    bot_type = check_type(body.get("type"))
    exchange = body.get("exchangeId") or user["exchangeId"]
    if exchange != user["exchangeId"]:
        raise invalid("exchangeId must match the user's exchange")
    settings = check_settings(bot_type, body.get("settings"))
    start, end = _int(body, "startUnix"), _int(body, "endUnix")
    if end <= start:
        raise invalid("endUnix must be after startUnix")
    backtest_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
    state.backtests[backtest_id] = {
        "created": time.monotonic(), "polls": 0, "cancelled": False, "type": bot_type,
        "exchangeId": exchange, "settings": settings, "startUnix": start, "endUnix": end,
        "executionStart": state.now(),
    }
    return {"backtestId": backtest_id, "serviceId": "script-execution-01",
            "message": "Backtest started successfully. "
                       "Use GET /bots/backtest/{id}/status to track progress."}


def _find(state: SimState, params: Params) -> tuple[str, Body]:
    backtest_id = params.get("backtestId", "")
    found = state.backtests.get(backtest_id)
    if found is None:
        raise not_found("backtest", backtest_id)
    return backtest_id, found


def _stage(bt: Body) -> tuple[str, int, str]:
    if bt["cancelled"]:
        return "cancelled", int(bt.get("cancelled_at", 0)), "Backtest was cancelled"
    if time.monotonic() - bt["created"] >= BACKTEST_SECONDS:
        return STAGES[-1]
    polls: int = bt["polls"]
    return STAGES[min(polls, len(STAGES) - 1)]


def backtest_status(state: SimState, _: Body, params: Params) -> Body:
    """GET /bots/backtest/{id}/status: each poll advances one stage."""
    backtest_id, bt = _find(state, params)
    stage, progress, message = _stage(bt)
    bt["polls"] += 1
    return {"backtestId": backtest_id, "state": stage, "progress": progress,
            "message": message, "serviceId": "script-execution-01"}


def _completed(state: SimState, params: Params) -> tuple[str, Body, random.Random]:
    backtest_id, bt = _find(state, params)
    if _stage(bt)[0] != "completed":
        raise conflict(f"backtest {backtest_id} is not completed")
    key = json.dumps([bt["type"], bt["settings"], bt["startUnix"], bt["endUnix"]],
                     sort_keys=True)
    return backtest_id, bt, random.Random(key)


def _log_lines(bt: Body, rng: random.Random) -> list[Body]:
    start, end = bt["startUnix"], bt["endUnix"]
    lines = [(start, "info", "Backtest started")]
    for i in range(rng.randint(4, 60)):
        ts = start + (end - start) * (i + 1) // 61
        lines.append((ts, "trade", f"Placed {'BUY' if i % 2 == 0 else 'SELL'} order #{i}"))
    lines.append((end, "info", "Backtest finished"))
    return [{"lineNumber": n, "timestamp": ts, "severity": sev, "color": None, "message": msg}
            for n, (ts, sev, msg) in enumerate(lines)]


def backtest_results(state: SimState, _: Body, params: Params) -> Body:
    """GET /bots/backtest/{id}/results: summary, performance, orders, positions, 50 logs."""
    backtest_id, bt, rng = _completed(state, params)
    roi = round(rng.uniform(-15, 30), 2)
    invest = float(bt["settings"].get("investmentAmount") or 1000)
    profit = round(invest * roi / 100, 2)
    closed = rng.randint(10, 100)
    wins = rng.randint(0, closed)
    logs = _log_lines(bt, rng)[:50]
    return {
        "backtestId": backtest_id, "startUnix": bt["startUnix"], "endUnix": bt["endUnix"],
        "executionStart": bt["executionStart"], "executionEnd": bt["executionStart"] + 2,
        "market": f"{bt['exchangeId']}:{bt['settings'].get('symbol', '')}",
        "summary": {"realizedProfit": profit, "profitCurrency": "USDT", "roi": roi,
                    "feeCosts": round(abs(profit) * 0.05, 2), "grossProfit": profit,
                    "priceChange": round(rng.uniform(-20, 20), 2)},
        "performance": {"profitFactor": round(rng.uniform(0.5, 3), 2),
                        "sharpeRatio": round(rng.uniform(-1, 3), 2),
                        "sortinoRatio": round(rng.uniform(-1, 3), 2),
                        "maxDrawdown": round(-abs(profit) * 0.3, 2),
                        "maxDrawdownPercent": round(-abs(roi) * 0.3, 2),
                        "winPercentage": round(wins / closed, 2),
                        "biggestWin": round(abs(profit) * 0.2, 2),
                        "biggestLoss": round(-abs(profit) * 0.1, 2),
                        "highestProfit": round(max(profit, 0) * 1.2, 2),
                        "lowestProfit": round(min(profit, 0) * 1.2, 2)},
        "orders": {"total": closed * 2, "filled": closed * 2, "partiallyFilled": 0,
                   "averageOpenTime": 3600},
        "positions": {"closedPositions": closed, "winningPositions": wins,
                      "losingPositions": closed - wins,
                      "averageProfit": round(profit / closed, 2), "averageMargin": 100},
        "logs": [f"{e['timestamp']} ||| 0 ||| {e['message']}" for e in logs],
    }


def backtest_logs(state: SimState, _: Body, params: Params) -> list[Body]:
    """GET /bots/backtest/{id}/logs: every log line of a completed backtest."""
    return _log_lines(*_completed(state, params)[1:])


def backtest_positions(state: SimState, _: Body, params: Params) -> list[Body]:
    """GET /bots/backtest/{id}/positions: the positions of a completed backtest (short keys)."""
    bt, rng = _completed(state, params)[1:]
    out = []
    for i in range(rng.randint(1, 5)):
        enter = round(rng.uniform(100, 1000), 2)
        exit_ = round(enter * rng.uniform(0.97, 1.04), 2)
        out.append({"pg": f"pos{i}", "g": f"g{i}", "ac": "sim", "ma": bt["settings"].get(
            "symbol", ""), "le": 1, "d": 0, "mt": 1500, "pl": "USDT", "al": "units",
            "pd": 2, "ad": 4, "ot": bt["startUnix"], "ct": bt["endUnix"], "ic": True,
            "ap": enter, "t": 0, "av": 1, "io": 0, "eno": [], "exo": [], "cp": exit_,
            "fe": 0, "rp": round(exit_ - enter, 2), "up": 0,
            "roi": round((exit_ / enter - 1) * 100, 2), "hpip": 0, "lpip": 0})
    return out


def backtest_cancel(state: SimState, _: Body, params: Params) -> bool:
    """POST /bots/backtest/{id}/cancel: cancel a backtest that has not completed."""
    backtest_id, bt = _find(state, params)
    stage, progress, _msg = _stage(bt)
    if stage in ("completed", "failed"):
        raise conflict(f"backtest {backtest_id} is already {stage}")
    bt["cancelled"], bt["cancelled_at"] = True, progress
    return True


def signals_send(state: SimState, body: Body, _: Params) -> bool:
    """POST /signals/send: remember the last signal of its token."""
    signal = body.get("signal")
    if not isinstance(signal, dict):
        raise invalid("signal is required")
    token = required_str(signal, "signalToken")
    if signal.get("action") not in SIGNAL_ACTIONS:
        raise invalid(f"action must be one of {', '.join(sorted(SIGNAL_ACTIONS))}")
    amount = signal.get("amount")
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise invalid("amount must be a number")
    _int(signal, "timestamp")
    price = signal.get("price")
    if price is not None and (not isinstance(price, int | float) or isinstance(price, bool)):
        raise invalid("price must be a number")
    metadata = {k: signal[k] for k in ("investmentType", "maxLag") if k in signal}
    state.signals[token] = {"signalToken": token, "action": signal["action"], "price": price,
                            "amount": amount, "timestamp": signal["timestamp"],
                            "metadata": metadata}
    return True


def signals_signal(state: SimState, body: Body, _: Params) -> Body:
    """POST /signals/signal: the last signal sent with a token."""
    token = required_str(body, "signalToken")
    found = state.signals.get(token)
    if found is None:
        raise not_found("signal", token)
    return dict(found)
