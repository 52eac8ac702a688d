"""A running daemon picks up ``copytrader follower`` edits as any edit of its policy folder:
an added follower gets its clone, a paused one is stopped, a removed one follows
``on_follower_removed`` (stop), without waiting for the next interval."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import EXPECTED, F4, GRID, clone_of, mismatches, wait_for


async def follower(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.cli.main", "follower", *args,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


@pytest.mark.timeout(300)  # a daemon and four commands on a shared machine
async def test_the_daemon_applies_follower_edits_from_the_command(
    sim: SimServer, start_daemon, daemon_env: dict[str, str], policy_dir: Path, tmp_path: Path
) -> None:
    # A long interval: a quick pass after an edit can only come from the folder watch.
    d = await start_daemon(COPYTRADER_INTERVAL_SECONDS="60")
    grid = {k: v for k, v in EXPECTED.items() if k[0] == GRID}
    await wait_for(lambda: not mismatches(sim.state, grid), "the grid followers", 30)
    assert clone_of(sim.state, GRID, F4) is None

    env = {k: v for k, v in daemon_env.items() if k != "COPYTRADER_LOG_FILE"}
    path = str(policy_dir / "eth-grid.yaml")
    code, out = await follower(env, tmp_path, "add", path, F4, "--scale", "investmentAmount=0.5")
    assert code == 0, out
    grid[(GRID, F4)] = ("running", {"investmentAmount": 500, "stopValue": 3500})
    await wait_for(lambda: not mismatches(sim.state, grid), "the added follower's clone", 20)

    code, out = await follower(env, tmp_path, "pause", path, F4)
    assert code == 0, out
    grid[(GRID, F4)] = ("stopped", {"investmentAmount": 500})
    await wait_for(lambda: not mismatches(sim.state, grid), "the paused clone stopped", 20)

    code, out = await follower(env, tmp_path, "unpause", path, F4)
    assert code == 0, out
    grid[(GRID, F4)] = ("running", {"investmentAmount": 500})
    await wait_for(lambda: not mismatches(sim.state, grid), "the clone running again", 20)

    code, out = await follower(env, tmp_path, "remove", path, F4)
    assert code == 0, out

    def stopped() -> bool:
        clone = clone_of(sim.state, GRID, F4)
        return clone is not None and clone["status"] == "stopped"

    await wait_for(stopped, "the removed follower's clone stopped", 20)
    assert d.events("policy folder changed")
    code, _ = await d.stop()
    assert code == 0
