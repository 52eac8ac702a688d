"""``copytrader reconcile`` (a real subprocess) delivers its own notifications before it exits;
with the receiver down it exits anyway (its drain is bounded) and leaves them in the outbox,
and a later process delivers them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.sim.haas.server import SimServer
from tests.notify.receiver import Receiver
from tests.reliability.support import run_cli, subprocess_env
from tests.world import F1, F2, GRID, demo_sim, write_policy

KEY = "drain-test-key-3b7f"
SECRET = "drain-test-secret-0123456789"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=5) as server:
        yield server


def unsettled(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM notifications WHERE next_at IS NOT NULL")
                   .fetchone()[0])  # fmt: skip


async def test_reconcile_delivers_its_own_notifications_before_it_exits(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", f"master: {GRID}\nfollowers:\n  - user: {F1}\n")
    receiver = await Receiver(SECRET).start()
    db = tmp_path / "ct.db"
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{db}",
        COPYTRADER_POLICY_DIR=str(folder),
        COPYTRADER_WEBHOOK_URL=receiver.url,
        COPYTRADER_WEBHOOK_SECRET=SECRET,
        COPYTRADER_NOTIFY_EVENTS="lease_acquired,clone,start,stop",
    )
    try:
        code, _, err = await run_cli("reconcile", env=env)
        assert code == 0, err
        # delivered before the process exited: no sender is left running
        assert {r.body["action"] for r in receiver.got} == {"lease_acquired", "clone", "start"}
        assert unsettled(db) == 0 and receiver.problems == []

        await receiver.stop()
        write_policy(folder, "grid.yaml", f"master: {GRID}\nfollowers:\n  - user: {F1}\n"
                     f"    paused: true\n  - user: {F2}\n")  # fmt: skip
        code, _, err = await run_cli("reconcile", env=env)  # a drain without end: hang guard
        assert code == 0, err
        assert "not delivered yet" in err, err
        left = unsettled(db)
        assert left >= 4  # lease_acquired, stop, clone, start: kept for the next process

        await receiver.start()
        for _ in range(10):  # each later reconcile delivers what is due by then
            code, _, err = await run_cli("reconcile", env=env)
            assert code == 0, err
            if unsettled(db) == 0:
                break
            await asyncio.sleep(2)
        assert unsettled(db) == 0
        actions = [r.body["action"] for r in receiver.got if r.status == 200]
        assert {"stop", "clone", "start"} <= set(actions)
        assert receiver.problems == []
    finally:
        await receiver.stop()
