"""The simulator's HTTP control API (``/_sim/...``), for tests and demos of a subprocess.

- ``POST /_sim/faults``: body = :class:`Fault` fields (or a list of them); adds the rules.
- ``GET /_sim/faults``: the active rules.  ``DELETE /_sim/faults``: removes every rule.
- ``GET /_sim/requests``: the request log.  ``POST /_sim/reset-requests``: empties it.
- ``POST /_sim/backtest-rules``: body = :class:`BacktestRule` fields (or a list): slow or
  failing backtests.  ``DELETE /_sim/backtest-rules``: removes every rule.
- ``GET /_sim/backtests``: every backtest and where it stands (cancelled ones included).
- ``POST /_sim/roi``: ``{"botId": ID, "roi": PERCENT}`` pins the ROI the bot reports (its
  profit follows); ``"roi": null`` lets the price walk drive it again.

Control requests need the API key too and are not recorded in the request log.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from copytrader.sim.faults import Fault
from copytrader.sim.haas import backtests
from copytrader.sim.haas.envelope import error, respond
from copytrader.sim.haas.records import BacktestRule

if TYPE_CHECKING:
    from copytrader.sim.haas.state import SimState


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    return json.loads(raw) if raw.strip() else None


async def handle(request: web.Request, state: SimState, authorised: bool) -> web.Response:
    """Answer one control request."""
    if not authorised:
        return error(401, 401, "missing or invalid API key")
    route = (request.method, request.path)
    if route == ("POST", "/_sim/faults"):
        try:
            body = await _json(request)
            items = body if isinstance(body, list) else [body]
            faults = [Fault.from_json(item if isinstance(item, dict) else {}) for item in items]
        except (ValueError, TypeError) as exc:
            return error(400, 400, f"bad fault: {exc}")
        for fault in faults:
            state.faults.add(fault)
        return respond(len(faults))
    if route == ("GET", "/_sim/faults"):
        return respond([dataclasses.asdict(f) for f in state.faults.active])
    if route == ("DELETE", "/_sim/faults"):
        state.faults.clear()
        return respond(True)
    if route == ("GET", "/_sim/requests"):
        return respond([r.to_json() for r in state.requests])
    if route == ("POST", "/_sim/reset-requests"):
        state.requests.clear()
        return respond(True)
    if route == ("POST", "/_sim/backtest-rules"):
        try:
            body = await _json(request)
            items = body if isinstance(body, list) else [body]
            rules = [BacktestRule.from_json(item) for item in items]
        except (ValueError, TypeError) as exc:
            return error(400, 400, f"bad backtest rule: {exc}")
        state.backtest_rules.extend(rules)
        return respond(len(rules))
    if route == ("DELETE", "/_sim/backtest-rules"):
        state.backtest_rules.clear()
        return respond(True)
    if route == ("GET", "/_sim/backtests"):
        return respond(backtests.listing(state))
    if route == ("POST", "/_sim/roi"):
        body = await _json(request)
        if not isinstance(body, dict):
            return error(400, 400, "expected {botId, roi}")
        roi = body.get("roi")
        if roi is not None and (isinstance(roi, bool) or not isinstance(roi, int | float)):
            return error(400, 400, "roi must be a number or null")
        try:
            state.set_roi(str(body.get("botId")), None if roi is None else float(roi))
        except KeyError:
            return error(404, 404, f"no bot {body.get('botId')}")
        return respond(True)
    return error(404, 404, f"no control route {request.method} {request.path}")
