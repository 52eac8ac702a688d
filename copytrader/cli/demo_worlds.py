"""The demo's worlds, one per platform: a simulator with its demo masters and followers,
the example policies, the settings the daemon needs for it, and the strategy manager's
master edit that the demo fans out. ``copytrader demo --platform NAME`` picks one."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from copytrader.core import words
from copytrader.settings import PlatformSettings, Secret


@dataclass
class Running:
    """A world's simulator while it runs."""

    url: str
    platform: PlatformSettings
    secrets: list[str] = field(default_factory=list)  # keys to keep out of the logs
    state: Any = None
    #: The secret path segment of the daemon's webhook URL (empty: the platform sends none).
    webhook_token: Secret = field(default_factory=lambda: Secret(""))


class World(Protocol):
    """One platform's demo."""

    #: The package of its example policies.
    policies: str
    #: master id -> a name for people.
    names: dict[str, str]

    def simulator(self, folder: Path) -> Any:
        """An async context manager running the simulator, yielding :class:`Running`."""
        ...

    async def edit_master(self, running: Running) -> str:
        """Edit one master through the platform's API; what was done, for people."""
        ...

    def connect_webhooks(self, running: Running, url: str) -> None:
        """Give the platform the daemon's webhook URL ``url`` (when it sends webhooks)."""
        ...


class Haas:
    """HaasOnline: the partner API simulator with its demo users and three masters."""

    policies = "copytrader.demo_policies"

    def __init__(self) -> None:
        from copytrader.sim.haas.seed import DEMO

        self.demo = DEMO
        self.names = {
            DEMO.spot_grid_master: "ETH spot grid",
            DEMO.futures_grid_master: "ETH futures grid",
            DEMO.spot_dca_master: "BTC DCA",
        }
        self.edit: dict[str, bool | int] = {"stopExit": True, "stopValue": 3900}

    @asynccontextmanager
    async def simulator(self, folder: Path) -> AsyncIterator[Running]:
        from copytrader.sim.haas.seed import seed_demo
        from copytrader.sim.haas.server import SimServer
        from copytrader.sim.haas.state import SimState

        key = secrets.token_urlsafe(24)  # the simulator's own key, nothing to configure
        state = SimState(api_key=key, latency=0.02)
        seed_demo(state)
        async with SimServer(state) as sim:
            platform = PlatformSettings(api_url=sim.url, api_key=Secret(key),
                                        rate_limit_per_minute=600, concurrency=4,
                                        timeout_seconds=10.0)
            yield Running(sim.url, platform, [key], state)

    async def edit_master(self, running: Running) -> str:
        from copytrader.platform.haas.client import PlatformClient

        async with PlatformClient(running.url, running.platform.api_key,
                                  rate_limit_per_minute=None) as manager:
            await manager.edit_bot(self.demo.spot_owner, self.demo.spot_grid_master, self.edit)
        changes = ", ".join(f"{k}: {words.show(v)}" for k, v in self.edit.items())
        return f"the strategy manager edited the ETH spot grid master ({changes})"

    def connect_webhooks(self, running: Running, url: str) -> None:
        """HaasOnline sends no webhooks."""


class BotPrimeX:
    """BotPrimeX: the master account with three masters and four follower accounts, each
    with its own key (written to ``<dir>/accounts.toml``, 0600) and plan."""

    policies = "copytrader.demo_policies.botprimex"

    def __init__(self) -> None:
        from copytrader.sim.botprimex.seed import DEMO

        self.demo = DEMO
        self.names = {DEMO.btc_dca: "BTC DCA", DEMO.eth_grid: "ETH grid",
                      DEMO.sol_signal: "SOL signal"}
        self.edit: dict[str, int] = {"max_open_trades": 6, "stop_loss": -10}

    @asynccontextmanager
    async def simulator(self, folder: Path) -> AsyncIterator[Running]:
        from copytrader.sim.botprimex.seed import new_key, seed_demo
        from copytrader.sim.botprimex.server import BpxServer
        from copytrader.sim.botprimex.state import BpxState

        master = new_key()
        state = BpxState(latency=0.02, trade_seconds=5)
        keys = seed_demo(state, master)
        path = folder / "accounts.toml"
        write_accounts(path, keys)
        async with BpxServer(state, tick=0.5) as sim:
            platform = PlatformSettings(api_url=sim.url, api_key=Secret(master), kind="botprimex",
                                        accounts={n: Secret(k) for n, k in keys.items()},
                                        accounts_file=path, rate_limit_per_minute=600,
                                        concurrency=4, timeout_seconds=10.0)
            # The daemon's webhook URL: its path's secret, as an operator would set one.
            token = secrets.token_urlsafe(24)
            yield Running(sim.url, platform, [master, *keys.values(), token], state,
                          webhook_token=Secret(token))

    async def edit_master(self, running: Running) -> str:
        from copytrader.platform.botprimex.client import BotPrimeXClient

        async with BotPrimeXClient(running.url, running.platform.api_key, {},
                                   rate_limit_per_minute=None) as manager:
            await manager.master.edit(self.demo.eth_grid, self.edit)
        changes = ", ".join(f"{k}: {words.show(v)}" for k, v in self.edit.items())
        return f"the strategy manager edited the ETH grid master ({changes})"

    def connect_webhooks(self, running: Running, url: str) -> None:
        """Every account delivers its events to the daemon, as set in the platform's
        dashboard (the simulator's accounts have none until now)."""
        hook = f"{url}/webhooks/botprimex/{running.webhook_token.reveal()}"
        for account in running.state.accounts.values():
            account.webhook_url = hook


def write_accounts(path: Path, keys: dict[str, str]) -> None:
    """The accounts file of the demo's follower accounts (0600; an older one replaced)."""
    path.unlink(missing_ok=True)
    text = "".join(f'[accounts.{name}]\napi_key = "{key}"\n\n' for name, key in keys.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


#: The packages of every demo's example policies.
POLICY_PACKAGES = ("copytrader.demo_policies", "copytrader.demo_policies.botprimex")


def world(platform: str) -> World:
    """The demo world of ``platform`` (``haas`` or ``botprimex``)."""
    worlds: dict[str, type[Haas] | type[BotPrimeX]] = {"haas": Haas, "botprimex": BotPrimeX}
    return worlds[platform]()
