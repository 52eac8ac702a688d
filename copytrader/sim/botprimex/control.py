"""The simulator's HTTP control API (``/_sim/...``), for tests and demos of a subprocess.

- ``POST /_sim/faults``: body = :class:`~copytrader.sim.faults.Fault` fields (or a list);
  ``GET /_sim/faults``: the active rules; ``DELETE /_sim/faults``: removes every rule.
- ``GET /_sim/requests``: the request log; ``POST /_sim/reset-requests``: empties it.
- ``GET /_sim/deliveries``: the webhook deliveries so far (event, account, HTTP status).
- ``POST /_sim/bots/{id}``: ``{"status": ...}`` and/or ``{"fields": {...}}`` applied out of
  band, as the platform's own dashboard would (with the webhook event).

Control requests need any account's key and are not recorded in the request log.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from copytrader.sim.botprimex.errors import BpxError, ok, response
from copytrader.sim.faults import Fault

if TYPE_CHECKING:
    from copytrader.sim.botprimex.records import AccountRecord
    from copytrader.sim.botprimex.state import BpxState


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    return json.loads(raw) if raw.strip() else None


async def handle(
    request: web.Request, state: BpxState, caller: AccountRecord | None
) -> web.Response:
    """Answer one control request."""
    if caller is None:
        return response(401, "unauthorized", "missing or invalid API key")
    route = (request.method, request.path)
    if route == ("POST", "/_sim/faults"):
        try:
            body = await _json(request)
            items = body if isinstance(body, list) else [body]
            faults = [Fault.from_json(i if isinstance(i, dict) else {}) for i in items]
        except (ValueError, TypeError) as exc:
            return response(400, "invalid_field", f"bad fault: {exc}")
        for fault in faults:
            state.faults.add(fault)
        return ok(len(faults))
    if route == ("GET", "/_sim/faults"):
        return ok([dataclasses.asdict(f) for f in state.faults.active])
    if route == ("DELETE", "/_sim/faults"):
        state.faults.clear()
        return ok(True)
    if route == ("GET", "/_sim/requests"):
        return ok([r.to_json() for r in state.requests])
    if route == ("POST", "/_sim/reset-requests"):
        state.requests.clear()
        return ok(True)
    if route == ("GET", "/_sim/deliveries"):
        return ok(list(state.deliveries))
    if request.method == "POST" and request.path.startswith("/_sim/bots/"):
        return await _bot(request, state)
    return response(404, "not_found", f"no control route {request.method} {request.path}")


async def _bot(request: web.Request, state: BpxState) -> web.Response:
    bot_id = request.path.removeprefix("/_sim/bots/")
    if bot_id not in state.bots:
        return response(404, "not_found", f"no such bot: {bot_id}")
    try:
        body = await _json(request)
    except ValueError:
        return response(400, "invalid_field", "the body is not JSON")
    if not isinstance(body, dict):
        return response(400, "invalid_field", "the body must be an object")
    try:
        if isinstance(body.get("fields"), dict):
            state.edit_out_of_band(bot_id, body["fields"])
        if isinstance(body.get("status"), str):
            state.set_status(bot_id, body["status"])
    except BpxError as exc:
        return response(exc.status, exc.code, exc.message)
    return ok(state.bots[bot_id].to_json())
