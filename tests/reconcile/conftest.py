"""A real simulator over loopback, a real SQLite store, real policy files in a tmp folder."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.seed import seed_demo
from copytrader.sim.server import SimServer
from copytrader.sim.state import SimState

KEY = "canary-key-5f3c9a1e"
GRID = "6dafad4e364449c9906296aab8eff2f7"
OWNER = "d9bd8028-a594-4828-8edb-e37a35d39dad"
F1 = "f873b314-f165-45a0-b658-d15ff37d529a"
F2 = "28f19b46-81df-481c-9872-c215626f166e"
F3 = "98aaa021-05c9-4cb1-ae7b-aaa128b42530"
F4 = "e2f12128-c864-47b5-81a7-1e8aeba29943"

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


def write_policy(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    state = SimState(api_key=KEY, seed=7)
    seed_demo(state)
    async with SimServer(state) as server:
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
    async with wiring.open_service(settings) as service:
        yield service
