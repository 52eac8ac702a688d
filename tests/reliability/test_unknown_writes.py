"""A process killed between recording a write and recording its outcome: what the next
leader says about it, and that it converges without a second clone.

Real processes against the real simulator and a SQLite file: ``copytrader reconcile`` is
killed with SIGKILL while its clone request is with the platform (a slow answer, the bot
made only later) or waiting to be retried (a 429 with a long Retry-After: never made), and
the next ``copytrader reconcile`` settles the write's ``pending`` event to ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.reliability.support import CLI, clones_of, run_cli, subprocess_env
from tests.world import F1, GRID, MASTERS, demo_sim, write_policy

KEY = "canary-unknown-3b8e61c0"
POLICY = f"master: {GRID}\nfollowers:\n  - user: {F1}\n"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=11) as server:
        yield server


def environment(sim: SimServer, tmp_path: Path, timeout: float) -> dict[str, str]:
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    write_policy(policies, "grid.yaml", POLICY)
    return subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policies),
        COPYTRADER_TIMEOUT_SECONDS=str(timeout),
    )


def clones(sim: SimServer) -> list[dict[str, Any]]:
    return clones_of(sim.state, F1, MASTERS)


async def kill_when(env: dict[str, str], reached: Fault) -> None:
    """Start ``copytrader reconcile`` and SIGKILL it once its request hit ``reached``."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, "reconcile", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(60):  # a hang guard only
            while reached.hits == 0:
                assert proc.returncode is None, "reconcile ended before its clone request"
                await asyncio.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()


async def audited(env: dict[str, str], action: str) -> list[dict[str, Any]]:
    code, out, err = await run_cli("audit", "--json", "--action", action, env=env)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


async def reconcile_until_converged(env: dict[str, str]) -> list[int]:
    """``copytrader reconcile`` again and again until it exits 0; the exit codes."""
    codes: list[int] = []
    async with asyncio.timeout(90):  # a hang guard only
        while not codes or codes[-1] != 0:
            code, _, err = await run_cli("reconcile", env=env)
            assert code in (0, 1), err
            codes.append(code)
            if code:
                await asyncio.sleep(0.5)
    return codes


async def test_a_clone_sent_before_the_kill_is_adopted_not_made_twice(
    sim: SimServer, tmp_path: Path
) -> None:
    # The platform makes the bot 4 s after the request arrives; the process is killed
    # first. The next leader must not clone again while the bot may still appear.
    env = environment(sim, tmp_path, timeout=5.0)
    slow = Fault(path="/bots/clone", kind="slow", delay=4.0)
    sim.state.faults.add(slow)
    await kill_when(env, slow)

    await reconcile_until_converged(env)
    async with asyncio.timeout(60):  # until the platform has answered the killed request
        while True:
            if [r for r in sim.state.requests if r.fault == "slow"]:
                break
            await asyncio.sleep(0.1)
    assert await reconcile_until_converged(env) == [0]  # nothing left to do, nothing made
    (clone,) = clones(sim)
    assert len([r for r in sim.state.requests if r.path == "/bots/clone"]) == 1
    (unknown,) = [e for e in await audited(env, "clone") if e["outcome"] == "unknown"]
    assert "whether it reached the platform is unknown" in unknown["error"]
    assert "adopt the bot it made" in unknown["error"]
    (adopted,) = await audited(env, "adopt")
    assert adopted["bot"] == clone["botId"]
    assert await audited(env, "duplicate_suspected") == []


async def test_a_clone_never_sent_is_made_once_after_the_grace(
    sim: SimServer, tmp_path: Path
) -> None:
    # A 429 with a long Retry-After: the request is refused (no bot), and the process is
    # killed while it waits to send it again. The next leader clones it once.
    env = environment(sim, tmp_path, timeout=1.0)
    refused = Fault(path="/bots/clone", kind="429", retry_after=120)
    sim.state.faults.add(refused)
    await kill_when(env, refused)
    assert clones(sim) == []

    await reconcile_until_converged(env)
    assert len(clones(sim)) == 1
    (unknown,) = [e for e in await audited(env, "clone") if e["outcome"] == "unknown"]
    assert "whether it reached the platform is unknown" in unknown["error"]
    assert [e["outcome"] for e in await audited(env, "clone")] == ["unknown", "ok"]
