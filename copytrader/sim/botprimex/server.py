"""Running the BotPrimeX simulator on a real loopback port: :class:`BpxServer`, :func:`serve`.

Besides the HTTP app, a running server advances the simulated trades every ``tick`` seconds
and delivers webhook events (:mod:`copytrader.sim.botprimex.webhooks`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from aiohttp import web

from copytrader.sim import http
from copytrader.sim.botprimex import seed as seeding
from copytrader.sim.botprimex.app import create_app
from copytrader.sim.botprimex.state import BpxState
from copytrader.sim.botprimex.webhooks import Deliverer


class BpxServer:
    """The simulator on ``host:port`` (port 0: a free port, kept across restarts)."""

    def __init__(
        self,
        state: BpxState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tick: float = 1.0,
    ) -> None:
        self.state = state if state is not None else BpxState()
        self.host = host
        self.port = port
        self.tick = tick
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:45123``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (again, on the same port after a stop), trade and deliver webhooks."""
        if self._runner is not None:
            return
        self._runner, self.port = await http.listen(create_app(self.state), self.host, self.port)
        self._tasks = [
            asyncio.create_task(self._trade()),
            asyncio.create_task(Deliverer(self.state).run()),
        ]

    async def _trade(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            self.state.advance()

    async def stop(self) -> None:
        """Stop listening, trading and delivering; the state is kept."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BpxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def describe(
    url: str, master_key: str, keys: Mapping[str, str], state: BpxState, accounts_file: Path | None
) -> str:
    """The start-up text: where it listens, each account with its plan, and the keys."""
    lines = [f"simulator (BotPrimeX) listening on {url}", f"  master account: key {master_key}"]
    for name, key in keys.items():
        acc = state.accounts[name]
        connected = ", ".join(sorted(acc.connected()))
        lines.append(
            f"  account {name} ({acc.plan}, {acc.rate_limit_per_minute}/min, "
            f"{connected}): key {key}"
        )
    if accounts_file is not None:
        lines.append(f"  accounts file: {accounts_file}")
    return "\n".join(lines)


async def serve(
    host: str,
    port: int,
    master_key: str,
    keys: Mapping[str, str],
    *,
    seed_demo: bool = True,
    seed: int = 0,
    latency: float = 0.0,
    webhook_url: str | None = None,
    trade_seconds: float = 30.0,
    accounts_file: Path | None = None,
) -> None:
    """Run the demo accounts (and with ``seed_demo`` the demo masters) until cancelled or
    sent SIGINT/SIGTERM. Prints where it listens and every account's key to stderr once it
    accepts connections."""
    state = BpxState(seed=seed, latency=latency, trade_seconds=trade_seconds)
    made = seeding.seed_accounts(state, master_key, keys, webhook_url=webhook_url)
    if seed_demo:
        seeding.seed_masters(state)
    async with http.stop_signals() as stopping, BpxServer(state, host=host, port=port) as server:
        print(
            describe(server.url, master_key, made, state, accounts_file),
            file=sys.stderr,
            flush=True,
        )
        await stopping.wait()
