"""Failure episodes against the simulator with its fault injection, a real SQLite store, and a
restart between passes (a new service on the same database): each episode is audited once,
and ``recovered`` once when it ends."""

from __future__ import annotations

from typing import Any

from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from copytrader.store import queries
from tests.reconcile.conftest import F1, F2


async def audited(svc: wiring.Service, action: str) -> list[dict[str, Any]]:
    return await queries.audit(svc.store, action=action)


async def test_platform_down_is_audited_once_per_episode_across_a_restart(
    sim: SimServer, settings: Settings
) -> None:
    async with wiring.open_writer(settings) as svc:
        assert (await svc.reconciler.run_pass()).state == "ok"
        sim.state.faults.add(Fault(path="/bots/list", kind="reject", times=-1))
        for _ in range(2):
            assert (await svc.reconciler.run_pass()).state == "aborted"
        assert await audited(svc, "platform_down") == []
        await svc.reconciler.run_pass()
        (down,) = await audited(svc, "platform_down")
        assert down["outcome"] == "failed" and "3 passes in a row were aborted" in down["detail"]
        assert down["error"]
        await svc.reconciler.run_pass()
    async with wiring.open_writer(settings) as svc:  # a new process, the same database
        assert (await svc.reconciler.run_pass()).state == "aborted"
        assert len(await audited(svc, "platform_down")) == 1
        sim.state.faults.clear()
        assert (await svc.reconciler.run_pass()).state == "ok"
        (back,) = await audited(svc, "recovered")
        assert back["changes"] == {"platform_down": [5, 0]}
        await svc.reconciler.run_pass()
        assert len(await audited(svc, "recovered")) == 1


async def test_write_failing_per_follower_once_and_its_recovery(
    sim: SimServer, settings: Settings
) -> None:
    sim.state.faults.add(Fault(path="/bots/start", kind="reject", times=-1))
    async with wiring.open_writer(settings) as svc:
        for _ in range(3):
            assert (await svc.reconciler.run_pass()).state == "failed"
        found = await audited(svc, "write_failing")
        assert sorted(e["follower"] for e in found) == sorted([F1, F2])  # F3 is paused
        assert all("3 passes in a row" in e["detail"] and e["error"] for e in found)
    async with wiring.open_writer(settings) as svc:
        await svc.reconciler.run_pass()
        assert len(await audited(svc, "write_failing")) == 2
        sim.state.faults.clear()
        assert (await svc.reconciler.run_pass()).converged
        back = await audited(svc, "recovered")
        assert sorted(e["follower"] for e in back) == sorted([F1, F2])
        assert all(e["changes"] == {"write_failing": [4, 0]} for e in back)
