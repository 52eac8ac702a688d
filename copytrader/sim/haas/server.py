"""Running the simulator on a real loopback port: :class:`SimServer` and :func:`serve`."""

from __future__ import annotations

import sys
from types import TracebackType

from aiohttp import web

from copytrader.sim import http
from copytrader.sim.haas import seed as seeding
from copytrader.sim.haas.app import create_app
from copytrader.sim.haas.state import SimState


class SimServer:
    """The simulator app on ``host:port`` (port 0: a free port, kept across restarts)."""

    def __init__(self, state: SimState | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.state = state if state is not None else SimState()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:45123``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (again, on the same port after a stop)."""
        if self._runner is not None:
            return
        self._runner, self.port = await http.listen(create_app(self.state), self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close every connection; the state is kept."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


async def serve(
    host: str,
    port: int,
    api_key: str,
    *,
    seed_demo: bool,
    seed: int = 0,
    rate_limit_per_minute: int | None,
    latency: float,
) -> None:
    """Run a simulator until cancelled or sent SIGINT/SIGTERM.

    Prints ``simulator listening on http://H:P`` to stderr once it accepts connections.
    """
    state = SimState(api_key=api_key, seed=seed, rate_limit_per_minute=rate_limit_per_minute,
                     latency=latency)
    if seed_demo:
        seeding.seed_demo(state)
    async with http.stop_signals() as stopping, SimServer(state, host=host, port=port) as server:
        print(f"simulator listening on {server.url}", file=sys.stderr, flush=True)
        await stopping.wait()
