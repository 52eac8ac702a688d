"""The simulator's aiohttp application: auth, per-key rate limit, faults, request log,
dispatch.

Every request except the ``/_sim/`` control API is recorded in ``state.requests`` (never
the key; exchange keys in ``POST /exchanges`` redacted) whatever its outcome, with the
account its key opened.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from aiohttp import web

from copytrader.sim import http
from copytrader.sim.botprimex import control, handlers
from copytrader.sim.botprimex.errors import BpxError, ok, response
from copytrader.sim.botprimex.records import AccountRecord
from copytrader.sim.botprimex.state import BpxState, template
from copytrader.sim.faults import Fault, RequestRecord

STATE: web.AppKey[BpxState] = web.AppKey("bpx_state", BpxState)
DEFAULT_TIMEOUT_DELAY = 60.0
SERVER_ERRORS = ((500, "internal_error"), (502, "unavailable"), (503, "unavailable"))
SECRET_FIELDS = frozenset({"api_key", "api_secret"})


def key_of(request: web.Request) -> str:
    """The bearer token of a request ("" when there is none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _strip(data: Any) -> Any:
    """``data`` without the fields a client needs (the ``missing_fields`` fault)."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return {"data": [_strip(i) for i in data["data"]], "next_cursor": data.get("next_cursor")}
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k not in ("id", "strategy", "exchange", "pair")}
    return data


class _Outcome:
    def __init__(self) -> None:
        self.status = 0
        self.fault: str | None = None
        self.account: str | None = None


async def _fault_before(request: web.Request, fault: Fault) -> web.Response | None:
    """The response of a fault that acts before the handler, or None to go on."""
    kind = fault.kind
    if kind == "429":
        return response(
            429,
            "rate_limited",
            "rate limit exceeded (fault injection)",
            headers={"Retry-After": str(math.ceil(fault.retry_after))},
        )
    if kind in ("500", "page_fail"):
        status, code = (
            SERVER_ERRORS[(fault.hits - 1) % len(SERVER_ERRORS)]
            if kind == "500"
            else SERVER_ERRORS[0]
        )
        return response(status, code, "server error (fault injection)")
    if kind in ("timeout", "slow"):
        await asyncio.sleep(fault.delay or (DEFAULT_TIMEOUT_DELAY if kind == "timeout" else 0.0))
        return None
    if kind == "reject":
        return response(400, "invalid_field", "rejected by fault injection")
    if kind == "malformed":
        return web.Response(status=200, text='{"data": [{"id', content_type="application/json")
    if kind == "reset":
        return http.drop(request)
    return None


async def _answer(request: web.Request, state: BpxState, body: Any, out: _Outcome) -> web.Response:
    acc: AccountRecord | None = state.account_of(key_of(request))
    if acc is None:
        return response(401, "unauthorized", "missing or invalid API key")
    out.account = acc.name
    if acc.latency > 0:
        await asyncio.sleep(acc.latency)
    wait = state.admit(acc, time.monotonic())
    if wait is not None:
        return response(
            429,
            "rate_limited",
            "rate limit exceeded",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    route = (request.method, template(request.path))
    handler = handlers.ROUTES.get(route)
    if handler is None:
        if any(path == route[1] for _, path in handlers.ROUTES):
            return response(405, "method_not_allowed", f"{request.method} {request.path}")
        return response(404, "not_found", f"no route {request.method} {request.path}")
    if body is http.INVALID:
        return response(400, "invalid_field", "the body is not a JSON object")
    fault = state.faults.take(
        request.path,
        method=request.method,
        account=acc.name,
        template=route[1],
        paged=route in handlers.PAGED,
    )
    out.fault = fault.kind if fault is not None else None
    if fault is not None and (early := await _fault_before(request, fault)) is not None:
        return early
    ident = request.path.strip("/").split("/")[1] if route[1].count("/") >= 2 else ""
    try:
        data, status = handler(state, acc, body, request.query, ident)
    except BpxError as exc:
        return response(exc.status, exc.code, exc.message)
    if fault is not None and fault.kind == "lost":
        return http.drop(request)
    if fault is not None and fault.kind == "missing_fields":
        data = _strip(data)
    return ok(data, status)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """The one aiohttp handler: everything but the control API goes through here."""
    state = request.app[STATE]
    if request.path.startswith("/_sim/"):
        return await control.handle(request, state, state.account_of(key_of(request)))
    ts, wall = time.monotonic(), time.time()
    out = _Outcome()
    body: Any = None
    try:
        if state.latency > 0:
            await asyncio.sleep(state.latency)
        body = await http.read_body(request)
        answer = await _answer(request, state, body, out)
        if out.fault not in ("lost", "reset"):
            out.status = answer.status
        return answer
    finally:
        state.requests.append(
            RequestRecord(
                ts,
                wall,
                request.method,
                request.path,
                out.status,
                200 <= out.status < 300 if out.status else None,
                http.redact(body, SECRET_FIELDS),
                out.fault,
                request.headers.get("X-Copytrader-Writer"),
                out.account,
                request.headers.get("X-Copytrader-Write"),
            )
        )


def create_app(state: BpxState) -> web.Application:
    """The simulator's aiohttp application serving ``state``."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[STATE] = state
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


__all__ = ["STATE", "create_app", "key_of"]
