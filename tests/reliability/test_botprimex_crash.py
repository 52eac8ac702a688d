"""kill -9 of a BotPrimeX daemon at random moments of a fan-out over many follower
accounts, several times, then let it finish.

40 follower accounts (each its own key and rate limit), two masters, simulator latency on,
master edits between some crashes. After the last restart has converged: exactly one clone
per follower and master (each carrying its tag), every clone at its desired fields and
status, no further writes, every write in the audit trail (a create whose answer the kill
cut off is adopted by its tag, with an event), and no run left ``running``.
``COPYTRADER_CRASH_LOOPS`` sets the number of crashes (CI: 4).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.core.tags import clone_tag
from copytrader.sim.botprimex.seed import seed_demo
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.botprimex.state import BpxState
from copytrader.store import queries
from copytrader.store.engine import open_store
from tests.bpx_world import BTC, ETH, KEYS, MASTER_KEY, write_accounts
from tests.reliability.bpx_support import (
    check_clones_accounted,
    unaudited_writes,
    write_requests,
)
from tests.reliability.daemon import DaemonProcess, free_port
from tests.reliability.support import env_int, subprocess_env

LOOPS = env_int("COPYTRADER_CRASH_LOOPS", 4)
ACCOUNTS = env_int("COPYTRADER_BPX_CRASH_ACCOUNTS", 40)
INTERVAL = 1.0
SCALES = (0.25, 0.5, 1.0)


def _names() -> list[str]:
    return [f"f{i:03d}" for i in range(ACCOUNTS)]


def _policy(master: str, names: list[str]) -> str:
    lines = [f"master: {master}", "limits:", "  stake_amount: {min: 5, max: 90}", "followers:"]
    for i, name in enumerate(names):
        lines += [f"  - user: {name}", f"    scale: {{stake_amount: {SCALES[i % 3]}}}"]
        if i % 10 == 0:
            lines.append("    paused: true")
    return "\n".join(lines) + "\n"


@pytest.fixture
async def world() -> AsyncIterator[tuple[BpxServer, dict[str, str]]]:
    state = BpxState(seed=5, latency=0.015)
    keys = {**KEYS, **{name: f"canary-crash-{name}-key" for name in _names()}}
    seed_demo(state, MASTER_KEY, keys)
    async with BpxServer(state) as server:
        yield server, keys


def _converged(state: BpxState) -> str | None:
    """Why the platform is not converged yet (None: it is)."""
    masters = {BTC: state.bots[BTC], ETH: state.bots[ETH]}
    for i, name in enumerate(_names()):
        bots = state.bots_of(name)
        if len(bots) != (2 if i % 2 == 0 else 1):
            return f"{name} has {len(bots)} bots"
        for master_id, master in masters.items():
            if master_id == ETH and i % 2:
                continue
            tag = clone_tag(master_id, name)
            mine = [b for b in bots if b["name"].endswith(f"[ct:{tag}]")]
            if len(mine) != 1:
                return f"{name} has {len(mine)} clones of {master_id}"
            bot = mine[0]
            k = i if master_id == BTC else i // 2  # the follower's place in that policy
            want = "stopped" if k % 10 == 0 else "running"
            stake = max(5, min(90, master.stake_amount * SCALES[k % 3]))
            if (bot["status"], bot["max_open_trades"], bot["stake_amount"]) != (
                want,
                master.max_open_trades,
                stake,
            ):
                return f"{name}'s clone of {master_id} is {bot}"
    return None


@pytest.mark.slow
async def test_kill9_during_a_botprimex_fanout(
    world: tuple[BpxServer, dict[str, str]], tmp_path: Path
) -> None:
    sim, keys = world
    names = _names()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "btc.yaml").write_text(_policy(BTC, names), encoding="utf-8")
    (policies / "eth.yaml").write_text(_policy(ETH, names[::2]), encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'ct.db'}"
    port = free_port()
    env = subprocess_env(
        COPYTRADER_PLATFORM="botprimex",
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=MASTER_KEY,
        COPYTRADER_ACCOUNTS_FILE=str(write_accounts(tmp_path, keys)),
        COPYTRADER_DATABASE_URL=db_url,
        COPYTRADER_POLICY_DIR=str(policies),
        COPYTRADER_INTERVAL_SECONDS=str(INTERVAL),
        COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}",
        COPYTRADER_RATE_LIMIT_PER_MINUTE="100000",
        COPYTRADER_CONCURRENCY="4",
        COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS="10",
    )
    daemon = DaemonProcess(env, tmp_path / "daemon.log", port)
    try:
        rng = random.Random(LOOPS)
        for i in range(LOOPS):
            await daemon.start()
            await daemon.wait_listening()
            await asyncio.sleep(rng.uniform(0.1, 2.0))
            await daemon.kill9()
            if i % 2 == 1:  # a master edit: the next passes edit every clone
                sim.state.edit_out_of_band(BTC, {"max_open_trades": 3 + i, "stake_amount": 100 + i})

        await daemon.start()
        await daemon.wait_listening()
        deadline = time.monotonic() + 90
        while (why := _converged(sim.state)) is not None:
            assert daemon.alive, daemon.tail()
            assert time.monotonic() < deadline, f"not converged within 90 s: {why}\n{daemon.tail()}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(2 * INTERVAL + 0.5)  # a pass or two more must find nothing to do
        writes = len(write_requests(sim.state))
        await asyncio.sleep(2 * INTERVAL + 0.5)
        assert len(write_requests(sim.state)) == writes, "writes after convergence"
        assert await daemon.terminate() == 0, daemon.tail()
    finally:
        if daemon.alive:  # a failed check must not leave the daemon running
            await daemon.kill9()

    store = await open_store(db_url)
    try:
        runs = await store.runs()
        assert runs and [r.run_id for r in runs if r.state == "running"] == []
        events = await queries.audit(store)
    finally:
        await store.close()
    assert unaudited_writes(write_requests(sim.state), events) == []
    check_clones_accounted(write_requests(sim.state), events)
