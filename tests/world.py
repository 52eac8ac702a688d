"""The demo world the end-to-end tests share: the simulator seeded with the demo users and
master bots (fixed ids), and policy files written into a folder."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from copytrader.sim.haas.seed import DEMO, seed_demo
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState

GRID = DEMO.spot_grid_master
FUTURES = DEMO.futures_grid_master
DCA = DEMO.spot_dca_master
MASTERS = (GRID, FUTURES, DCA)
F1, F2, F3, F4 = DEMO.spot_followers


@asynccontextmanager
async def demo_sim(key: str, seed: int) -> AsyncIterator[SimServer]:
    """A simulator on a free loopback port, seeded with the demo world."""
    state = SimState(api_key=key, seed=seed)
    seed_demo(state)
    async with SimServer(state) as server:
        yield server


def write_policy(folder: Path, name: str, text: str) -> Path:
    """Write one policy file (dedented) and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
