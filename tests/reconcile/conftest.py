"""A real simulator over loopback, a real SQLite store, real policy files in a tmp folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.haas.server import SimServer
from tests.world import F1, F2, F3, F4, GRID, demo_sim, write_policy

__all__ = ["F1", "F2", "F3", "F4", "GRID", "GRID_POLICY", "KEY", "write_policy"]

KEY = "canary-key-5f3c9a1e"

GRID_POLICY = f"""\
master: {GRID}
defaults:
  overrides: {{stopCondition: Price, stopValue: 3500}}
limits:
  investmentAmount: {{min: 100, max: 800}}
locked: [symbol]
followers:
  - user: {F1}
    overrides: {{stopValue: 4200}}
    scale: {{investmentAmount: 0.5}}
  - user: {F2}
  - user: {F3}
    paused: true
on_follower_removed: stop
on_master_stopped: stop
on_immutable_change: recreate
"""


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=7) as server:
        yield server


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", GRID_POLICY)
    return folder


@pytest.fixture
def settings(sim: SimServer, tmp_path: Path, policy_dir: Path) -> Settings:
    return Settings(
        platform=PlatformSettings(
            api_url=sim.url,
            api_key=Secret(KEY),
            rate_limit_per_minute=10_000,
            concurrency=4,
            timeout_seconds=5.0,
        ),
        database_url=f"sqlite:///{tmp_path / 'ct.db'}",
        policy_dir=policy_dir,
    )


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[wiring.Service]:
    async with wiring.open_writer(settings) as service:
        yield service
