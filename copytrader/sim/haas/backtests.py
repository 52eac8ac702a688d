"""Handlers of the backtest and signal endpoints.

A backtest moves one stage per status poll (loading_script, loading_data, executing at 25,
50 and 75 %, completed), or completes after ``BACKTEST_SECONDS`` of real time, whichever
comes first, so clients can exercise polling without waiting. Its results come from the
simulated history (:mod:`copytrader.sim.haas.history`): deterministic and driven by the
settings. Fault injection (:class:`~copytrader.sim.haas.records.BacktestRule`, control API
``/_sim/backtest-rules``) makes chosen backtests slow (progress by the clock) or fail.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from copytrader.sim.haas import history
from copytrader.sim.haas.records import BacktestRule
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
          ("executing", 25, "Processing historical data..."),
          ("executing", 50, "Processing historical data..."),
          ("executing", 75, "Processing historical data..."), ("completed", 100, "Completed")]
TERMINAL = frozenset({"completed", "failed", "cancelled"})
SIGNAL_ACTIONS = frozenset({"buy", "sell", "enter_long", "exit_long", "enter_short",
                            "exit_short"})


def _int(body: Body, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"{key} must be an integer")
    return value


def _rule(state: SimState, settings: Body) -> BacktestRule | None:
    """The first rule matching ``settings``, with one of its uses taken."""
    for rule in list(state.backtest_rules):
        if rule.matches(settings):
            if rule.times > 0:
                rule.times -= 1
                if rule.times == 0:
                    state.backtest_rules.remove(rule)
            return rule
    return None


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
        "created": time.monotonic(), "polls": 0, "type": bot_type, "userId": user["userId"],
        "exchangeId": exchange, "settings": settings, "startUnix": start, "endUnix": end,
        "executionStart": state.now(), "rule": _rule(state, settings), "final": None,
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
    """Where the backtest stands now; a terminal stage is final."""
    if bt["final"] is not None:
        final: tuple[str, int, str] = bt["final"]
        return final
    rule: BacktestRule | None = bt["rule"]
    elapsed = time.monotonic() - bt["created"]
    if rule is not None and rule.seconds is not None:
        share = elapsed / rule.seconds if rule.seconds else 1.0
        if share < 0.05:
            return STAGES[0]
        if share < 0.1:
            return STAGES[1]
        stage = (("executing", int(share * 100), STAGES[2][2]) if share < 1 else STAGES[-1])
    elif elapsed >= BACKTEST_SECONDS:
        stage = STAGES[-1]
    else:
        stage = STAGES[min(bt["polls"], len(STAGES) - 1)]
    if stage[0] == "completed" and rule is not None and rule.fail is not None:
        stage = ("failed", stage[1], rule.fail)
    if stage[0] in TERMINAL:
        bt["final"] = stage
    return stage


def backtest_status(state: SimState, _: Body, params: Params) -> Body:
    """GET /bots/backtest/{id}/status: each poll advances one stage."""
    backtest_id, bt = _find(state, params)
    stage, progress, message = _stage(bt)
    bt["polls"] += 1
    return {"backtestId": backtest_id, "state": stage, "progress": progress,
            "message": message, "serviceId": "script-execution-01"}


def _completed(state: SimState, params: Params) -> tuple[str, Body, history.Run]:
    backtest_id, bt = _find(state, params)
    stage = _stage(bt)[0]
    if stage != "completed":
        raise conflict(f"backtest {backtest_id} is {stage}, not completed")
    if "run" not in bt:
        bt["run"] = history.backtest(bt["type"], bt["settings"], bt["startUnix"], bt["endUnix"])
    return backtest_id, bt, bt["run"]


def _log_lines(bt: Body, run: history.Run) -> list[Body]:
    start = bt["startUnix"]
    lines = [(start, "info", "Backtest started")]
    lines += [(start + hour * history.HOUR, "trade", message) for hour, message in run.log]
    lines.append((bt["endUnix"], "info", "Backtest finished"))
    return [{"lineNumber": n, "timestamp": ts, "severity": sev, "color": None, "message": msg}
            for n, (ts, sev, msg) in enumerate(lines)]


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def backtest_results(state: SimState, _: Body, params: Params) -> Body:
    """GET /bots/backtest/{id}/results: summary, performance, orders, positions, 50 logs."""
    backtest_id, bt, run = _completed(state, params)
    m = run.metrics()
    closed = m["closed"]
    logs = _log_lines(bt, run)[:50]
    prices = history.prices(str(bt["settings"].get("symbol", "")),
                            max(1, (bt["endUnix"] - bt["startUnix"]) // history.HOUR))
    return {
        "backtestId": backtest_id, "startUnix": bt["startUnix"], "endUnix": bt["endUnix"],
        "executionStart": bt["executionStart"], "executionEnd": bt["executionStart"] + 2,
        "market": f"{bt['exchangeId']}:{bt['settings'].get('symbol', '')}",
        "summary": {"realizedProfit": _r(m["realized"]), "profitCurrency": "USDT",
                    "roi": _r(m["roi"]), "feeCosts": _r(run.fees),
                    "grossProfit": _r(m["realized"] + run.fees),
                    "priceChange": _r((prices[-1] / prices[0] - 1) * 100)},
        "performance": {"profitFactor": _r(m["profit_factor"]), "sharpeRatio": 0,
                        "sortinoRatio": 0, "maxDrawdown": _r(-m["drawdown"]),
                        "maxDrawdownPercent": _r(-m["drawdown_pct"]),
                        "winPercentage": _r(m["win_rate"]),
                        "biggestWin": _r(m["biggest_win"]), "biggestLoss": _r(m["biggest_loss"]),
                        "highestProfit": _r(max(run.equity, default=0.0)),
                        "lowestProfit": _r(min(run.equity, default=0.0))},
        "orders": {"total": run.orders + run.skipped, "filled": run.orders,
                   "partiallyFilled": 0, "averageOpenTime": 3600},
        "positions": {"closedPositions": closed, "winningPositions": m["wins"],
                      "losingPositions": closed - m["wins"],
                      "averageProfit": _r(m["realized"] / closed if closed else 0.0),
                      "averageMargin": 100},
        "logs": [f"{e['timestamp']} ||| 0 ||| {e['message']}" for e in logs],
    }


def backtest_logs(state: SimState, _: Body, params: Params) -> list[Body]:
    """GET /bots/backtest/{id}/logs: every log line of a completed backtest."""
    bt, run = _completed(state, params)[1:]
    return _log_lines(bt, run)


def backtest_positions(state: SimState, _: Body, params: Params) -> list[Body]:
    """GET /bots/backtest/{id}/positions: the closed positions of a completed backtest (the
    reference's short keys)."""
    bt, run = _completed(state, params)[1:]
    symbol = bt["settings"].get("symbol", "")
    return [{"pg": f"pos{i}", "g": f"g{i}", "ac": "sim", "ma": symbol, "le": 1, "d": 0,
             "mt": 1500, "pl": "USDT", "al": "units", "pd": 2, "ad": 4, "ot": bt["startUnix"],
             "ct": bt["endUnix"], "ic": True, "ap": 0, "t": 0, "av": 1, "io": 0, "eno": [],
             "exo": [], "cp": 0, "fe": 0, "rp": round(pnl, 2), "up": 0,
             "roi": round(pnl / run.invest * 100, 4) if run.invest else 0, "hpip": 0, "lpip": 0}
            for i, pnl in enumerate(run.trades)]


def backtest_cancel(state: SimState, _: Body, params: Params) -> bool:
    """POST /bots/backtest/{id}/cancel: cancel a backtest that has not finished."""
    backtest_id, bt = _find(state, params)
    stage, progress, _msg = _stage(bt)
    if stage in TERMINAL:
        raise conflict(f"backtest {backtest_id} is already {stage}")
    bt["final"] = ("cancelled", progress, "Backtest was cancelled")
    return True


def listing(state: SimState) -> list[Body]:
    """Every backtest with where it stands (the control API's ``GET /_sim/backtests``)."""
    out = []
    for backtest_id, bt in state.backtests.items():
        stage, progress, message = _stage(bt)
        out.append({"backtestId": backtest_id, "state": stage, "progress": progress,
                    "message": message, "type": bt["type"], "userId": bt["userId"],
                    "settings": bt["settings"], "startUnix": bt["startUnix"],
                    "endUnix": bt["endUnix"], "polls": bt["polls"]})
    return out


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
