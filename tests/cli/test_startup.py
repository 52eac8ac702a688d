"""Fast start-up of the read-only commands, proved by what they load (not by timing: the
figures are in benchmarks/cli_startup.py): no aiohttp, Alembic, structlog, APScheduler,
prometheus_client, YAML, SQLModel (pydantic), SQLAlchemy's ORM or the async SQLite driver for
``status``, ``audit``, ``history``, ``--help`` and ``--version`` on a SQLite database at the
newest revision, and Alembic only when the database needs a migration."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.reliability.support import run_cli, subprocess_env

HEAVY = (
    "aiohttp",
    "alembic",
    "structlog",
    "apscheduler",
    "prometheus_client",
    "yaml",
    "sqlalchemy.orm",
    "sqlmodel",
    "pydantic",
    "aiosqlite",
)

PROBE = """
import json, sys
from copytrader.cli import main
try:
    code = main.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(({m.split('.')[0] for m in sys.modules} | set(sys.modules)) & set(HEAVY))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


async def loaded(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    """Run ``copytrader ARGS`` in a fresh interpreter; its exit code and the heavy top-level
    packages it imported."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    doc = json.loads(err.decode().strip().splitlines()[-1])
    return doc["code"], doc["heavy"]


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    env = subprocess_env(COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}")
    code, _, err = await run_cli("db", "upgrade", env=env)  # the migration is not measured
    assert code == 0, err
    return env


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["audit", "--limit", "20"],
        ["audit", "--json", "--since", "7d"],
        ["history", "--bucket", "1d"],
        ["--help"],
        ["--version"],
        ["audit", "--help"],
    ],
)
async def test_read_only_commands_load_no_heavy_module(
    env: dict[str, str], args: list[str]
) -> None:
    code, heavy = await loaded(env, *args)
    assert code == 0
    assert heavy == []


async def test_a_database_behind_the_head_is_migrated_with_alembic(tmp_path: Path) -> None:
    env = subprocess_env(COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
    code, heavy = await loaded(env, "status")
    assert code == 0 and "alembic" in heavy  # a new database: migrated on first use
    code, heavy = await loaded(env, "status")
    assert code == 0 and heavy == []  # at the head: one query, no Alembic
