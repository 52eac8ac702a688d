"""``copytrader reconcile`` and the writer lease, as real processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from copytrader.cli.main import build_parser
from copytrader.reconcile.leadership import Leadership
from copytrader.sim.haas.server import SimServer
from copytrader.store import engine
from copytrader.store.lease import WriterLease, lock_path
from tests.daemon.conftest import EXPECTED, mismatches
from tests.ha.conftest import base_env, cli, clone_counts, duplicates


async def test_two_reconciles_at_once_clone_each_follower_once(
    sim: SimServer, policy_dir: Path, db_url: str, tmp_path: Path
) -> None:
    sim.state.latency = 0.03  # the trial that doubled 31 of 40 followers had 30 ms
    env = base_env(sim, policy_dir, db_url)
    first, second = await asyncio.gather(
        cli(env, "reconcile", "--json", cwd=tmp_path), cli(env, "reconcile", "--json", cwd=tmp_path)
    )
    codes = sorted([first[0], second[0]])
    assert codes in ([0, 3], [0, 0]), (first, second)  # one held the lease, or they took turns
    if codes == [0, 3]:
        loser = first if first[0] == 3 else second
        lines = loser[2].strip().splitlines()
        assert len(lines) == 1 and "writer lease is held by" in lines[0], loser[2]
        assert f"{socket.gethostname()}:" in lines[0] and loser[1] == ""
    assert set(clone_counts(sim.state).values()) == {1}
    assert duplicates(sim.state) == 0 and mismatches(sim.state, EXPECTED) == []


async def test_reconcile_exits_3_at_once_or_waits_for_the_lease(
    sim: SimServer, policy_dir: Path, db_url: str, tmp_path: Path
) -> None:
    env = base_env(sim, policy_dir, db_url)
    store = await engine.open_store(db_url)
    lock = lock_path(db_url) if store.dialect == "sqlite" else None
    lease = WriterLease(store, 5, lock_file=lock)
    holder = Leadership(lease, store)
    keeper: asyncio.Task[None] | None = None
    try:
        assert await holder.take()
        keeper = asyncio.create_task(holder.keep())
        # At once: without --wait it does not wait (we keep renewing the lease, so a wait
        # would end only at the hang guard) and it runs no pass (not a single request).
        assert build_parser().parse_args(["reconcile"]).wait == 0
        code, out, err = await asyncio.wait_for(cli(env, "reconcile", cwd=tmp_path), 60)
        assert code == 3 and out == "" and len(err.strip().splitlines()) == 1, err
        pid = lease.holder.split(":")[1]
        assert f"held by {socket.gethostname()}:{pid}" in err
        if store.dialect == "postgresql":
            assert "its lease ends in" in err
        assert sim.state.requests == []
        now = await lease.current()  # still ours, at the same epoch: nobody took it
        assert now is not None and (now.holder, now.epoch) == (lease.holder, 1)

        async def give_up_soon() -> None:
            await asyncio.sleep(2.0)
            assert keeper is not None
            keeper.cancel()
            await holder.give_up()

        _, (code, out, err) = await asyncio.gather(
            give_up_soon(), cli(env, "reconcile", "--wait", "30", cwd=tmp_path)
        )
        assert code == 0, err
        assert mismatches(sim.state, EXPECTED) == []
        # the takeovers are on record with their epochs: ours (1), reconcile's (2)
        async with store.engine.connect() as conn:
            rows = (
                await conn.exec_driver_sql(
                    "SELECT action, detail FROM audit_events "
                    "WHERE action LIKE 'lease_%' ORDER BY id"
                )
            ).all()
        acquired = [d for a, d in rows if a == "lease_acquired"]
        assert [d.split(";")[0] for d in acquired] == ["epoch 1", "epoch 2"]
        assert [a for a, _ in rows].count("lease_released") == 2
    finally:
        if keeper is not None:
            keeper.cancel()
        await lease.close()
        await store.close()
