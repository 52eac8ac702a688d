"""Three ``copytrader run`` replicas on one PostgreSQL database: kill -9 of the leader, a
leader paused past its lease (SIGSTOP) that must send nothing once resumed, and a leader whose
database session is killed. Real processes, a real PostgreSQL, a real simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import EXPECTED, F2, GRID, clone_of, mismatches, wait_for
from tests.ha.conftest import Replica, base_env, duplicates, pid_of, writes_by
from tests.store.databases import _plain

pytestmark = pytest.mark.postgres
LEASE = 5


async def pg(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(_plain(url), timeout=5)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def leader_of(group: list[Replica]) -> Replica | None:
    """The one replica saying it leads (None while none or several do)."""
    leading = []
    for r in group:
        if r.alive():
            doc = await r.role()
            if doc and doc.get("role") == "leader":
                leading.append(r)
    return leading[0] if len(leading) == 1 else None


async def standbys(group: list[Replica]) -> bool:
    docs = [await r.role() for r in group]
    return all(d is not None and d.get("role") == "standby" for d in docs)


def f2_amount(sim: SimServer) -> object:
    clone = clone_of(sim.state, GRID, F2)
    return clone["settings"]["investmentAmount"] if clone else None


async def test_failover_kill9_sigstop_and_a_killed_session(
    sim: SimServer, policy_dir: Path, pg_url: str, replicas
) -> None:
    sim.state.latency = 0.05
    env = base_env(sim, policy_dir, pg_url)
    env["COPYTRADER_LEASE_SECONDS"] = str(LEASE)
    a = await replicas(env, "a")
    await wait_for(lambda: leader_of([a]), "a leads", 30)
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "converged by a", 30)
    b, c = await replicas(env, "b"), await replicas(env, "c")
    await wait_for(lambda: standbys([b, c]), "b and c are standbys", 30)

    # kill -9 of the leader: a standby leads within 2 x lease of the death.
    killed = time.monotonic()
    os.kill(a.pid, signal.SIGKILL)
    second = await wait_for(lambda: leader_of([b, c]), "a standby leads", 2 * LEASE, every=0.1)
    assert time.monotonic() - killed < 2 * LEASE
    third = c if second is b else b

    # The leader paused in the middle of a fan-out, past its lease: the other takes over and
    # the paused one, resumed, sends no platform write after the takeover and steps down.
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    grid.write_text(good.replace("investmentAmount: 0.5\n", "investmentAmount: 0.25\n"),
                    encoding="utf-8")
    await wait_for(lambda: any(pid_of(w) == second.pid for _, w in writes_by(sim.state)
                               if _ > killed), "the fan-out started", 10, every=0.02)
    os.kill(second.pid, signal.SIGSTOP)
    try:
        await wait_for(lambda: leader_of([third]), "the third replica leads", 3 * LEASE,
                       every=0.1)
        takeover = time.monotonic()
        await wait_for(lambda: f2_amount(sim) == 250, "the change carried by the new leader", 20)
    finally:
        os.kill(second.pid, signal.SIGCONT)
    await wait_for(lambda: standbys([second]), "the resumed one is a standby", 3 * LEASE)
    await asyncio.sleep(2)  # give it every chance to send something it should not
    late = [(t, w) for t, w in writes_by(sim.state) if pid_of(w) == second.pid and t > takeover]
    assert late == []
    lost = await pg(pg_url, "SELECT detail FROM audit_events WHERE action = 'lease_lost'")
    assert lost, "the resumed leader's step down is audited"

    # The leader's database session is killed: it steps down, and a standby (possibly the
    # same process, once it is one again) leads at a higher epoch.
    [epoch_before] = await pg(pg_url, "SELECT epoch FROM writer_lease")
    await pg(pg_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE application_name = $1", f"copytrader {third.pid}")
    await wait_for(lambda: pg(pg_url, "SELECT 1 FROM writer_lease WHERE epoch > $1",
                              epoch_before["epoch"]), "a new epoch", 3 * LEASE)
    assert len(await pg(pg_url, "SELECT 1 FROM audit_events WHERE action = 'lease_lost'")) >= 2
    await wait_for(lambda: leader_of([second, third]), "one leader again", 3 * LEASE)

    # Whatever happened, the platform is exactly as the policies say, once.
    want = {k: v for k, v in EXPECTED.items() if k != (GRID, F2)}
    await wait_for(lambda: not mismatches(sim.state, want) and f2_amount(sim) == 250,
                   "converged", 20)
    assert duplicates(sim.state) == 0
    assert all(w for _, w in writes_by(sim.state))  # every write named its writer
