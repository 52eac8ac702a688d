"""A real simulator over loopback, a real SQLite store, real policy files in a tmp folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.haas.server import SimServer
from tests.bpx_world import ALICE, BOB, BTC, CAROL, bpx_settings, bpx_sim, write_accounts
from tests.world import F1, F2, F3, F4, GRID, demo_sim, write_policy

__all__ = [
    "BPX_POLICY",
    "F1",
    "F2",
    "F3",
    "F4",
    "GRID",
    "GRID_POLICY",
    "KEY",
    "write_policy",
]

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


# -- BotPrimeX: the same scenarios against the BotPrimeX simulator ---------------------

BPX_POLICY = f"""\
master: {BTC}
defaults:
  overrides: {{stop_loss: -5}}
limits:
  stake_amount: {{min: 20, max: 80}}
locked: [pair]
followers:
  - user: {ALICE}
    overrides: {{stop_loss: -3}}
    scale: {{stake_amount: 0.5}}
  - user: {BOB}
  - user: {CAROL}
    paused: true
on_follower_removed: stop
on_master_stopped: stop
on_immutable_change: recreate
"""


@pytest.fixture
async def bpx() -> AsyncIterator[BpxServer]:
    async with bpx_sim(seed=7) as server:
        yield server


@pytest.fixture
def bpx_policies(tmp_path: Path) -> Path:
    folder = tmp_path / "bpx-policies"
    folder.mkdir()
    write_policy(folder, "btc.yaml", BPX_POLICY)
    return folder


@pytest.fixture
def bpx_config(bpx: BpxServer, tmp_path: Path, bpx_policies: Path) -> Settings:
    write_accounts(tmp_path)
    return bpx_settings(bpx, tmp_path, bpx_policies)


@pytest.fixture
async def bpx_svc(bpx_config: Settings) -> AsyncIterator[wiring.Service]:
    async with wiring.open_writer(bpx_config) as service:
        yield service
