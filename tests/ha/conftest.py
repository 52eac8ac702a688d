"""Several real copytrader processes over one database (SQLite file or PostgreSQL) and one
in-process simulator: the writer lease, standbys, fencing and failover."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from tests.daemon.conftest import (
    EXPECTED,
    Daemon,
    daemon_env_for,
    free_port,
    notify,
    policy_dir,
    sim,
)
from tests.store import databases

__all__ = ["notify", "policy_dir", "sim"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ct.db'}"
        return
    yield from _postgres()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _postgres()


def _postgres() -> Iterator[str]:
    admin = databases.postgres_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL not reachable ({databases.ENV} unset or server down)")
    with databases.fresh_postgres_database(admin) as url:
        yield url


def base_env(sim: SimServer, policy_dir: Path, db_url: str) -> dict[str, str]:
    env = daemon_env_for(sim, policy_dir, db_url)
    env.update(COPYTRADER_RATE_LIMIT_PER_MINUTE="100000", COPYTRADER_LEASE_SECONDS="5")
    return env


async def cli(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str, str]:
    """``copytrader ARGS`` in a subprocess: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "copytrader.cli.main",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def clone_counts(state: SimState) -> dict[tuple[str, str], int]:
    """(master, follower) -> how many bots of the master's type the follower has, for every
    pair of the example policies (each must be exactly 1)."""
    out = {}
    for master, follower in EXPECTED:
        kind = state.bot(master)["type"]
        out[(master, follower)] = sum(1 for b in state.bots_of(follower) if b["type"] == kind)
    return out


def duplicates(state: SimState) -> int:
    return sum(n - 1 for n in clone_counts(state).values() if n > 1)


def writes_by(state: SimState) -> list[tuple[float, str]]:
    """(arrival time, writer stamp) of every write the simulator received."""
    return [(r.ts, r.writer or "") for r in state.writes()]


def pid_of(stamp: str) -> int | None:
    """The pid in a writer stamp ``host:pid:random#epoch``."""
    holder = stamp.split("#", 1)[0]
    parts = holder.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


class Replica(Daemon):
    """One ``copytrader run`` replica with its own folder, log and HTTP port."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **env,
            "COPYTRADER_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
            "COPYTRADER_LOG_FILE": str(workdir / "daemon.log"),
        }
        super().__init__(env, workdir)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def role(self) -> dict[str, Any] | None:
        import json

        got = await self.get_or_none("/healthz")
        if got is None:
            return None
        try:
            doc: dict[str, Any] = json.loads(got[1])
        except ValueError:
            return None
        return doc


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Replica]]]:
    started: list[Replica] = []

    async def start(env: dict[str, str], name: str) -> Replica:
        r = await Replica(env, tmp_path / name).start()
        started.append(r)
        return r

    yield start
    for r in started:
        if r.proc is not None and r.proc.returncode is None:
            r.proc.kill()
        if r.proc is not None:
            await r.proc.communicate()
