"""kill -9 of the daemon at random moments of a large fan-out, many times, then let it finish.

300 followers, simulator latency on, master edits between some crashes. After the last
restart has converged: exactly one clone per follower, every clone at its desired settings
and status, every platform write in the audit trail (or adopted with an event), and no run
left ``running``. On SQLite and on PostgreSQL. ``COPYTRADER_CRASH_LOOPS`` sets the number of
crashes (CI: 5).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from copytrader.store import queries
from copytrader.store.engine import open_store
from tests.reliability.conftest import GRID, KEY, MASTERS
from tests.reliability.daemon import DaemonProcess, free_port
from tests.reliability.support import (
    assert_one_clone_each,
    check_clones_accounted,
    clones_of,
    env_int,
    subprocess_env,
    unaudited_writes,
    write_requests,
)

LOOPS = env_int("COPYTRADER_CRASH_LOOPS", 5)
FOLLOWERS = env_int("COPYTRADER_CRASH_FOLLOWERS", 300)
INTERVAL = 1.0
SCALES = (0.1, 0.25, 0.5)


def _policy(followers: list[str]) -> str:
    lines = [
        f"master: {GRID}",
        "defaults:",
        "  overrides: {stopCondition: Price}",
        "limits:",
        "  investmentAmount: {min: 50, max: 900}",
        "followers:",
    ]
    for i, user in enumerate(followers):
        lines.append(f"  - user: {user}")
        lines.append(f"    scale: {{investmentAmount: {SCALES[i % len(SCALES)]}}}")
        if i % 10 == 0:
            lines.append("    paused: true")
    lines += [
        "on_follower_removed: stop",
        "on_master_stopped: stop",
        "on_immutable_change: recreate",
        "",
    ]
    return "\n".join(lines)


@pytest.fixture
async def fanout() -> AsyncIterator[tuple[SimServer, list[str]]]:
    state = SimState(api_key=KEY, seed=5, latency=0.015)
    seed_demo(state)
    followers = [state.create_user("BITMEXSPOT") for _ in range(FOLLOWERS)]
    async with SimServer(state) as server:
        yield server, followers


def _converged(state: SimState, followers: list[str]) -> bool:
    master = state.bot(GRID)
    for i, user in enumerate(followers):
        found = clones_of(state, user, MASTERS)
        if len(found) != 1:
            return False
        clone = found[0]
        s = clone["settings"]
        want_status = "stopped" if i % 10 == 0 else "running"
        if (clone["status"], s["stopCondition"], s["stopExit"], s["stopType"]) != (
            want_status,
            "Price",
            master["settings"]["stopExit"],
            master["settings"]["stopType"],
        ):
            return False
        if s["investmentAmount"] != max(50, min(900, 1000 * SCALES[i % len(SCALES)])):
            return False
    return True


async def _crash_and_finish(
    sim: SimServer, followers: list[str], db_url: str, tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "grid.yaml").write_text(_policy(followers), encoding="utf-8")
    port = free_port()
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=db_url,
        COPYTRADER_POLICY_DIR=str(policies),
        COPYTRADER_INTERVAL_SECONDS=str(INTERVAL),
        COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}",
        COPYTRADER_RATE_LIMIT_PER_MINUTE="100000",
        COPYTRADER_CONCURRENCY="8",
        COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS="10",
    )
    daemon = DaemonProcess(env, tmp_path / "daemon.log", port)
    rng = random.Random(LOOPS)
    for i in range(LOOPS):
        await daemon.start()
        await daemon.wait_listening()
        await asyncio.sleep(rng.uniform(0.05, 2.0))
        await daemon.kill9()
        if i % 2 == 1:  # a master edit: the next passes edit every clone
            stop_type = rng.choice(["Above value", "Below value"])
            sim.state.edit_out_of_band(GRID, {"stopExit": i % 4 == 1, "stopType": stop_type})

    await daemon.start()
    await daemon.wait_listening()
    deadline = time.monotonic() + 90
    while not _converged(sim.state, followers):
        assert daemon.alive, daemon.tail()
        assert time.monotonic() < deadline, "not converged within 90 s after the crashes"
        await asyncio.sleep(0.5)
    await asyncio.sleep(2 * INTERVAL + 0.5)  # a pass or two more must find nothing to do
    writes = len(write_requests(sim.state))
    await asyncio.sleep(2 * INTERVAL + 0.5)
    assert len(write_requests(sim.state)) == writes, "writes after convergence"
    assert await daemon.terminate() == 0, daemon.tail()

    assert_one_clone_each(sim.state, followers, MASTERS)
    store = await open_store(db_url)
    try:
        runs = await store.runs()
        assert runs, "no run recorded"
        assert [r.run_id for r in runs if r.state == "running"] == []
        events = await queries.audit(store)
    finally:
        await store.close()
    # Every write is on record: its pending event is committed before it is sent, and the
    # restart turns a pending event left by the kill into "unknown".
    assert unaudited_writes(write_requests(sim.state), events) == []
    check_clones_accounted(write_requests(sim.state), events, every_request=False)


@pytest.mark.slow
async def test_kill9_during_fanout_sqlite(
    fanout: tuple[SimServer, list[str]], tmp_path: Path
) -> None:
    sim, followers = fanout
    await _crash_and_finish(sim, followers, f"sqlite:///{tmp_path / 'ct.db'}", tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
async def test_kill9_during_fanout_postgres(
    fanout: tuple[SimServer, list[str]], pg_url: str, tmp_path: Path
) -> None:
    sim, followers = fanout
    await _crash_and_finish(sim, followers, pg_url, tmp_path)
