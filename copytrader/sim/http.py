"""The aiohttp plumbing both simulators share: a request's JSON body, a dropped connection
(the ``lost`` and ``reset`` faults), secret fields redacted for the request log, listening
on a port, and the signals that stop ``copytrader sim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Collection
from typing import Any

from aiohttp import web

SHUTDOWN_TIMEOUT = 0.5  # in-flight requests (a "timeout" fault) are cut after this


class _Invalid:
    pass


#: The body of a request that is not a JSON object (the handlers answer 400).
INVALID: Any = _Invalid()


async def read_body(request: web.Request) -> Any:
    """The request's JSON object: None without a body, :data:`INVALID` when it is not one."""
    if not request.body_exists:
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return INVALID
    return body if isinstance(body, dict) else INVALID


def drop(request: web.Request) -> web.Response:
    """End the connection without an answer."""
    # Closing the transport makes aiohttp's write of the response fail quietly, so the
    # client sees the connection end without any response.
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=200)


def redact(body: Any, secret_fields: Collection[str]) -> dict[str, Any] | None:
    """``body`` for the request log, each of ``secret_fields`` as ``***`` (None: not an
    object)."""
    if not isinstance(body, dict):
        return None
    return {k: ("***" if k in secret_fields else v) for k, v in body.items()}


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (0: a free port): the runner (its cleanup stops it)
    and the port it listens on."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])


@contextlib.asynccontextmanager
async def stop_signals() -> AsyncIterator[asyncio.Event]:
    """An event that SIGINT or SIGTERM sets while inside (where the loop can handle them);
    the handlers are removed on the way out."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
            handled.append(sig)
    try:
        yield stopping
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
