"""The simulator's aiohttp application: auth, rate limit, faults, request log, dispatch.

Every request except the ``/_sim/`` control API is recorded in ``state.requests`` (without
the API key, with exchange keys in bodies redacted) whatever its outcome.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from copytrader.sim import http
from copytrader.sim.faults import Fault, RequestRecord
from copytrader.sim.haas import activity, backtests, control, handlers
from copytrader.sim.haas.envelope import error, respond
from copytrader.sim.haas.state import SimState
from copytrader.sim.haas.validation import REJECTED, SimError

Handler = Callable[[SimState, dict[str, Any], dict[str, str]], Any]
STATE: web.AppKey[SimState] = web.AppKey("sim_state", SimState)
DEFAULT_TIMEOUT_DELAY = 60.0
SERVER_ERRORS = (500, 502, 503)
SECRET_FIELDS = frozenset({"publicKey", "secretKey", "extraKey"})

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/bots/list"): handlers.bots_list,
    ("POST", "/bots/user"): handlers.bots_user,
    ("POST", "/bots/bot"): handlers.bots_bot,
    ("POST", "/bots/create"): handlers.bots_create,
    ("POST", "/bots/edit"): handlers.bots_edit,
    ("POST", "/bots/clone"): handlers.bots_clone,
    ("POST", "/bots/start"): handlers.bots_start,
    ("POST", "/bots/stop"): handlers.bots_stop,
    ("POST", "/bots/preview"): activity.bots_preview,
    ("POST", "/bots/delete"): handlers.bots_delete,
    ("POST", "/bots/orders"): activity.bots_orders,
    ("POST", "/bots/logs"): activity.bots_logs,
    ("POST", "/bots/positions"): activity.bots_positions,
    ("POST", "/bots/positions/closed"): activity.bots_positions_closed,
    ("POST", "/bots/positions/orders"): activity.bots_positions_orders,
    ("POST", "/bots/backtest"): backtests.backtest_run,
    ("GET", "/exchanges"): handlers.exchanges,
    ("GET", "/markets"): handlers.markets,
    ("GET", "/scripts"): handlers.scripts,
    ("POST", "/scripts/script"): handlers.scripts_script,
    ("POST", "/signals/signal"): backtests.signals_signal,
    ("POST", "/signals/send"): backtests.signals_send,
    ("POST", "/users/list"): handlers.users_list,
    ("POST", "/users/user"): handlers.users_user,
    ("POST", "/users/create"): handlers.users_create,
    ("POST", "/users/delete"): handlers.users_delete,
}
BACKTEST_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "status"): backtests.backtest_status,
    ("GET", "results"): backtests.backtest_results,
    ("GET", "logs"): backtests.backtest_logs,
    ("GET", "positions"): backtests.backtest_positions,
    ("POST", "cancel"): backtests.backtest_cancel,
}
_BACKTEST_PATH = re.compile(r"^/bots/backtest/([^/]+)/([a-z]+)$")


def _resolve(method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
    """(handler, path params, path known) for a request."""
    handler = ROUTES.get((method, path))
    if handler is not None:
        return handler, {}, True
    match = _BACKTEST_PATH.match(path)
    if match:
        backtest_id, action = match.groups()
        known = any(a == action for _, a in BACKTEST_ROUTES)
        return BACKTEST_ROUTES.get((method, action)), {"backtestId": backtest_id}, known
    return None, {}, any(p == path for _, p in ROUTES)


def authorised(request: web.Request, state: SimState) -> bool:
    """Whether the request carries the right X-API-Key (compared in constant time)."""
    given = request.headers.get("X-API-Key", "")
    return hmac.compare_digest(given.encode(), state.api_key.encode())


def _strip(data: Any) -> Any:
    """``data`` with the fields a client needs removed (the missing_fields fault)."""
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):
            return {"items": [_strip(i) for i in data["items"]]}
        return {k: v for k, v in data.items()
                if k not in ("botId", "settings", "userId", "type", "status")}
    if isinstance(data, list):
        return [_strip(i) for i in data]
    return None


class _Outcome:
    """What the request log records about the response."""

    def __init__(self) -> None:
        self.status = 0
        self.success: bool | None = None
        self.fault: str | None = None


async def _serve(
    request: web.Request, state: SimState, body: Any, out: _Outcome
) -> web.Response:
    response, out.success = await _answer(request, state, body, out)
    return response


async def _answer(
    request: web.Request, state: SimState, body: Any, out: _Outcome
) -> tuple[web.Response, bool | None]:
    """The response and its envelope's isSuccess (None when there is no envelope)."""
    if not authorised(request, state):
        return error(401, 401, "missing or invalid API key"), False
    wait = state.admit(time.monotonic())
    if wait is not None:
        return error(429, 429, "rate limit exceeded",
                     headers={"Retry-After": str(max(1, math.ceil(wait)))}), False
    handler, params, known = _resolve(request.method, request.path)
    if handler is None:
        status = 405 if known else 404
        return error(status, status, f"no route {request.method} {request.path}"), False
    if body is http.INVALID:
        return error(400, 400, "request body is not a JSON object"), False
    fault = state.faults.take(request.path)
    out.fault = fault.kind if fault is not None else None
    if fault is not None:
        early = await _fault_before(request, fault)
        if early is not None:
            return early
    try:
        data = handler(state, body or {}, params)
    except SimError as exc:
        return error(exc.http, exc.code, exc.message), False
    if fault is not None and fault.kind == "lost":
        return http.drop(request), None
    if fault is not None and fault.kind == "missing_fields":
        return respond(_strip(data)), True
    return respond(data), True


async def _fault_before(
    request: web.Request, fault: Fault
) -> tuple[web.Response, bool | None] | None:
    """The response of a fault that acts before the handler, or None to go on."""
    kind = fault.kind
    if kind == "429":
        return error(429, 429, "rate limit exceeded (fault injection)",
                     headers={"Retry-After": str(math.ceil(fault.retry_after))}), False
    if kind in ("500", "page_fail"):
        # Successive hits of one rule answer 500, 502, 503, 500...: every 5xx is transient.
        status = SERVER_ERRORS[(fault.hits - 1) % len(SERVER_ERRORS)] if kind == "500" else 500
        return error(status, status, "server error (fault injection)"), False
    if kind in ("timeout", "slow"):
        delay = fault.delay or (DEFAULT_TIMEOUT_DELAY if kind == "timeout" else 0.0)
        await asyncio.sleep(delay)
        return None
    if kind == "reject":
        return error(200, REJECTED, "rejected by fault injection"), False
    if kind == "malformed":
        text = '{"isSuccess": true, "code": 0, "data": [{"bot'
        return web.Response(status=200, text=text, content_type="application/json"), None
    if kind == "reset":
        return http.drop(request), None
    return None


async def dispatch(request: web.Request) -> web.StreamResponse:
    """The one aiohttp handler: everything but the control API goes through here."""
    state = request.app[STATE]
    if request.path.startswith("/_sim/"):
        return await control.handle(request, state, authorised(request, state))
    ts, wall = time.monotonic(), time.time()
    out = _Outcome()
    body: Any = None
    try:
        if state.latency > 0:
            await asyncio.sleep(state.latency)
        body = await http.read_body(request)
        response = await _serve(request, state, body, out)
        if out.fault not in ("lost", "reset"):
            out.status = response.status
        return response
    finally:
        state.requests.append(RequestRecord(
            ts, wall, request.method, request.path, out.status, out.success,
            http.redact(body, SECRET_FIELDS), out.fault,
            request.headers.get("X-Copytrader-Writer"),
            write_id=request.headers.get("X-Copytrader-Write")))


def create_app(state: SimState) -> web.Application:
    """The simulator's aiohttp application serving ``state``."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE] = state
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


__all__ = ["STATE", "create_app"]
