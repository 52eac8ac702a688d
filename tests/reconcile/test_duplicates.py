"""Suspected duplicates end to end: a second look-alike bot of a follower, made behind
copytrader's back, against the real simulator, client, store and loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
from copytrader.store import queries
from tests.reconcile.conftest import F1, F2, GRID, GRID_POLICY, write_policy


def look_alike(sim: SimServer, user: str) -> str:
    """A bot of ``user`` with the grid master's type, exchange and market, made by someone
    else (a person clicking clone, a second process): running."""
    master = sim.state.bot(GRID)
    made = sim.state.create_bot(user, master["type"], dict(master["settings"]))
    assert made["status"] == "running"
    return str(made["botId"])


async def events(svc: wiring.Service, action: str, **kw: Any) -> list[dict[str, Any]]:
    return await queries.audit(svc.store, action=action, **kw)


async def grid_status(svc: wiring.Service) -> dict[str, Any]:
    [row] = [m for m in (await queries.status(svc.store))["masters"] if m["master"] == GRID]
    return row


async def test_a_second_look_alike_is_reported_once_counted_and_left_running(
    sim: SimServer, svc: wiring.Service
) -> None:
    assert (await svc.reconciler.run_pass()).converged
    dup = look_alike(sim, F2)
    for _ in range(2):
        result = await svc.reconciler.run_pass()
        assert result.converged, result.to_json()  # a duplicate alone does not unsettle
        assert result.plan.writes == 0
        held = result.to_json()["held"]
        assert [(h["reason"], h["follower"], h["bot"]) for h in held] == [
            ("duplicate_suspected", F2, dup)
        ]
    [event] = await events(svc, "duplicate_suspected")  # once, across two passes
    assert (event["master"], event["follower"], event["bot"]) == (GRID, F2, dup)
    assert sim.state.bot(dup)["status"] == "running"  # untouched
    row = await grid_status(svc)
    assert row["suspected_duplicates"] == 1
    assert row["clones"] == row["followers"] == 3  # not counted as a clone

    sim.state.stop(dup)  # stopped, it is still a suspected duplicate
    await svc.reconciler.run_pass()
    assert (await grid_status(svc))["suspected_duplicates"] == 1
    sim.state.delete_out_of_band(dup)  # gone: no longer counted
    await svc.reconciler.run_pass()
    assert (await grid_status(svc))["suspected_duplicates"] == 0
    assert len(await events(svc, "duplicate_suspected")) == 1


async def test_on_duplicate_stop_stops_it_audited_as_a_stop(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", GRID_POLICY + "on_duplicate: stop\n")
    assert (await svc.reconciler.run_pass()).converged
    clone_f1 = next(b["botId"] for b in sim.state.bots_of(F1) if b["botId"] != GRID)
    dup = look_alike(sim, F1)
    result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    assert [(a["action"], a["bot"], a["outcome"]) for a in result.to_json()["actions"]] == [
        ("stop", dup, "ok")
    ]
    assert sim.state.bot(dup)["status"] == "stopped"
    assert sim.state.bot(clone_f1)["status"] == "running"  # the real clone is not touched
    [stop] = await events(svc, "stop", follower=F1)
    assert (stop["bot"], stop["outcome"]) == (dup, "ok")
    assert "on_duplicate: stop" in stop["detail"]
    again = await svc.reconciler.run_pass()  # already stopped: nothing more to do
    assert again.plan.writes == 0
    assert len(await events(svc, "duplicate_suspected")) == 1
    assert (await grid_status(svc))["suspected_duplicates"] == 1
