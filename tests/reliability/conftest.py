"""Fixtures of the reliability tests: the simulator, settings, stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.haas.server import SimServer
from tests.world import DCA, F1, F2, F3, F4, FUTURES, GRID, MASTERS, demo_sim, write_policy

__all__ = ["DCA", "F1", "F2", "F3", "F4", "FUTURES", "GRID", "GRID_POLICY", "KEY", "MASTERS"]

KEY = "canary-apikey-7Qx9Zr2Lm4"

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
on_follower_removed: stop
on_master_stopped: stop
on_immutable_change: recreate
"""

SettingsFactory = Callable[..., Settings]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """The demo world on a loopback simulator."""
    async with demo_sim(KEY, seed=11) as server:
        yield server


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", GRID_POLICY)
    return folder


@pytest.fixture
def make_settings(sim: SimServer, tmp_path: Path, policy_dir: Path) -> SettingsFactory:
    """Settings for the simulator; keyword arguments override the platform's."""

    def make(database_url: str | None = None, **platform: object) -> Settings:
        options: dict[str, object] = {
            "rate_limit_per_minute": 100_000,
            "concurrency": 4,
            "timeout_seconds": 5.0,
        }
        options.update(platform)
        return Settings(
            platform=PlatformSettings(api_url=sim.url, api_key=Secret(KEY), **options),  # type: ignore[arg-type]
            database_url=database_url or f"sqlite:///{tmp_path / 'ct.db'}",
            policy_dir=policy_dir,
        )

    return make


def postgres_admin_url() -> str | None:
    return os.environ.get("COPYTRADER_TEST_POSTGRES_URL") or None


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, uniquely named PostgreSQL database (dropped after); skips when unavailable."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("COPYTRADER_TEST_POSTGRES_URL is not set")
    import asyncpg

    dsn = admin.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL unreachable: {type(exc).__name__}")
    name = f"ct_rel_{uuid.uuid4().hex[:12]}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = dsn.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
