"""Three ``copytrader run`` replicas on one PostgreSQL database: kill -9 of the leader, a
leader paused past its lease (SIGSTOP) that must send nothing once resumed, and a leader whose
database session is killed. Real processes, a real PostgreSQL, a real simulator.

What is checked is the order of events (epochs, the lease row, the writes' arrival order at
the simulator); how fast a failover is, is the failover benchmark's to measure."""

from __future__ import annotations

import asyncio
import os
import signal
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


def epoch_of(stamp: str) -> int:
    """The epoch in a writer stamp ``host:pid:random#epoch``."""
    return int(stamp.rsplit("#", 1)[1])


def fenced(sim: SimServer) -> bool:
    """The fence: once a write of an epoch has reached the platform, no write of an earlier
    epoch does (the writes in order of arrival carry epochs that never go down)."""
    epochs = [epoch_of(stamp) for _, stamp in sorted(writes_by(sim.state))]
    return epochs == sorted(epochs)


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
    await wait_for(lambda: leader_of([a]), "a leads")
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "converged by a")
    b, c = await replicas(env, "b"), await replicas(env, "c")
    await wait_for(lambda: standbys([b, c]), "b and c are standbys")

    # kill -9 of the leader: a standby takes the lease once the dead leader's has run out
    # (never two writers at once), one epoch up.
    [held] = await pg(pg_url, "SELECT epoch, expires_at FROM writer_lease")
    os.kill(a.pid, signal.SIGKILL)
    second = await wait_for(lambda: leader_of([b, c]), "a standby leads", every=0.1)
    third = c if second is b else b
    [taken] = await pg(pg_url, "SELECT epoch, acquired_at, holder FROM writer_lease")
    assert taken["epoch"] == held["epoch"] + 1 and pid_of(taken["holder"]) == second.pid
    assert taken["acquired_at"] >= held["expires_at"]  # renewals before the kill: only later

    # The leader paused in the middle of a fan-out, past its lease: the other takes over and
    # the paused one, resumed, sends no platform write after the takeover and steps down.
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    before = len(sim.state.writes())
    grid.write_text(good.replace("investmentAmount: 0.5\n", "investmentAmount: 0.25\n"),
                    encoding="utf-8")
    await wait_for(lambda: any(pid_of(w) == second.pid for _, w in writes_by(sim.state)[before:]),
                   "the fan-out started", every=0.02)
    os.kill(second.pid, signal.SIGSTOP)
    try:
        await wait_for(lambda: leader_of([third]), "the third replica leads", every=0.1)
        await wait_for(lambda: f2_amount(sim) == 250, "the change carried by the new leader")
    finally:
        os.kill(second.pid, signal.SIGCONT)
    await wait_for(lambda: standbys([second]), "the resumed one is a standby")
    await asyncio.sleep(2)  # give it every chance to send something it should not
    assert fenced(sim)
    lost = await pg(pg_url, "SELECT detail FROM audit_events WHERE action = 'lease_lost'")
    assert lost, "the resumed leader's step down is audited"

    # The leader's database session is killed: it steps down, and a standby (possibly the
    # same process, once it is one again) leads at a higher epoch.
    [epoch_before] = await pg(pg_url, "SELECT epoch FROM writer_lease")
    await pg(pg_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE application_name = $1", f"copytrader {third.pid}")
    await wait_for(lambda: pg(pg_url, "SELECT 1 FROM writer_lease WHERE epoch > $1",
                              epoch_before["epoch"]), "a new epoch")
    assert len(await pg(pg_url, "SELECT 1 FROM audit_events WHERE action = 'lease_lost'")) >= 2
    await wait_for(lambda: leader_of([second, third]), "one leader again")

    # Whatever happened, the platform is exactly as the policies say, once.
    want = {k: v for k, v in EXPECTED.items() if k != (GRID, F2)}
    await wait_for(lambda: not mismatches(sim.state, want) and f2_amount(sim) == 250,
                   "converged")
    assert duplicates(sim.state) == 0
    assert all(w for _, w in writes_by(sim.state))  # every write named its writer
    assert fenced(sim)
