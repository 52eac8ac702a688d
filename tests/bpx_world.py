"""The BotPrimeX world the end-to-end tests share: the simulator seeded with the demo
accounts (fixed canary keys) and master bots, an accounts file, and settings for it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.botprimex.seed import DEMO, seed_demo
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.botprimex.state import BpxState

BTC, ETH, SOL = DEMO
MASTER_KEY = "canary-bpx-master-Q3k8Zt"
KEYS: dict[str, str] = {
    "alice": "canary-bpx-alice-W7m2Lp",
    "bob": "canary-bpx-bob-N5x0Rc",
    "carol": "canary-bpx-carol-H9v4Fd",
    "dave": "canary-bpx-dave-T1j6Ys",
}
ALICE, BOB, CAROL, DAVE = KEYS


@asynccontextmanager
async def bpx_sim(seed: int = 7, **state: Any) -> AsyncIterator[BpxServer]:
    """The BotPrimeX demo world on a free loopback port."""
    st = BpxState(seed=seed, **state)
    seed_demo(st, MASTER_KEY, KEYS)
    async with BpxServer(st, tick=0.2) as server:
        yield server


def write_accounts(folder: Path, keys: Mapping[str, str] = KEYS, mode: int = 0o600) -> Path:
    """An accounts file with ``keys`` (0600 unless told)."""
    path = folder / "accounts.toml"
    path.write_text(
        "".join(f'[accounts.{n}]\napi_key = "{k}"\n\n' for n, k in keys.items()), encoding="utf-8"
    )
    os.chmod(path, mode)
    return path


def bpx_settings(sim: BpxServer, tmp_path: Path, policy_dir: Path, **platform: Any) -> Settings:
    """Settings of a BotPrimeX deployment against ``sim``; keywords override the platform's."""
    options: dict[str, Any] = {
        "rate_limit_per_minute": 100_000,
        "concurrency": 4,
        "timeout_seconds": 5.0,
    }
    options.update(platform)
    return Settings(
        platform=PlatformSettings(
            api_url=sim.url,
            api_key=Secret(MASTER_KEY),
            kind="botprimex",
            accounts={n: Secret(k) for n, k in KEYS.items()},
            accounts_file=tmp_path / "accounts.toml",
            **options,
        ),
        database_url=f"sqlite:///{tmp_path / 'ct.db'}",
        policy_dir=policy_dir,
    )


def clones(sim: BpxServer, account: str) -> list[dict[str, Any]]:
    """Every bot of a follower account."""
    return sim.state.bots_of(account)


def clone(sim: BpxServer, account: str) -> dict[str, Any]:
    """The one bot of a follower account (fails when it has another number)."""
    found = clones(sim, account)
    assert len(found) == 1, f"{account} has {len(found)} bots: {found}"
    return found[0]
