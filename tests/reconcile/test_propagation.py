"""End to end: ``propagation: auto`` against the real simulator, client, store and loader."""

from __future__ import annotations

from pathlib import Path

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
from copytrader.store import queries
from tests.reconcile.conftest import F1, F2, F3, GRID, write_policy
from tests.reconcile.test_pass import clone, writes

AUTO_POLICY = f"""\
master: {GRID}
followers:
  - user: {F1}
    scale: {{investmentAmount: 0.5}}
  - user: {F2}
    overrides: {{stopValue: 4200}}
  - user: {F3}
propagation: auto
on_immutable_change: recreate
"""


def edits(sim: SimServer) -> list[str]:
    return [str(r.body.get("botId")) for r in sim.state.writes("/bots/edit")]


async def test_carried_clones_follow_a_master_edit_with_no_request(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", AUTO_POLICY)
    plan, problems = await svc.reconciler.plan()
    assert problems == ()
    doc = plan.to_json()
    assert {a["follower"]: a["propagation"] for a in doc["actions"] if a["action"] == "clone"} == {
        F1: "platform",
        F2: "copytrader",
        F3: "platform",
    }
    result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    c1, c2, c3 = clone(sim, F1), clone(sim, F2), clone(sim, F3)
    assert (c1["masterBotId"], c2["masterBotId"], c3["masterBotId"]) == (GRID, "", GRID)
    assert c1["settings"]["investmentAmount"] == 500
    # status: how many of the master's clones the platform carries
    (grid,) = [m for m in (await queries.status(svc.store))["masters"] if m["master"] == GRID]
    assert (grid["clones"], grid["platform_carried"], grid["in_sync"]) == (3, 2, 3)

    # The master's owner edits it: the platform pushes the edit to the carried clones.
    before = writes(sim)
    sim.state.edit(GRID, {"stopExit": True, "stopValue": 3900})
    assert clone(sim, F1)["settings"]["stopExit"] is True  # before copytrader does anything
    assert clone(sim, F3)["settings"]["stopValue"] == 3900
    result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    assert writes(sim) - before == 1  # the one edit: F2's clone, carried by copytrader
    assert edits(sim) == [c2["botId"]]
    assert clone(sim, F2)["settings"]["stopExit"] is True
    assert clone(sim, F2)["settings"]["stopValue"] == 4200  # its own override holds
    assert not [n for n in result.plan.notes if n.action == "drift"]


async def test_followers_that_change_class_are_recreated(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", AUTO_POLICY)
    await svc.reconciler.run_pass()
    old1, old2 = clone(sim, F1)["botId"], clone(sim, F2)["botId"]
    # F1 gains an editable override (now copytrader's); F2 loses its own (now the platform's).
    write_policy(
        policy_dir,
        "grid.yaml",
        AUTO_POLICY.replace(
            "    scale: {investmentAmount: 0.5}\n",
            "    scale: {investmentAmount: 0.5}\n    overrides: {stopValue: 4100}\n",
        ).replace("    overrides: {stopValue: 4200}\n", ""),
    )
    plan, _ = await svc.reconciler.plan()
    assert {(a.follower, a.kind.value) for a in plan.actions} >= {
        (F1, "delete"),
        (F1, "clone"),
        (F2, "delete"),
        (F2, "clone"),
    }
    result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    c1, c2 = clone(sim, F1), clone(sim, F2)
    assert c1["botId"] != old1 and c2["botId"] != old2
    assert (c1["masterBotId"], c2["masterBotId"]) == ("", GRID)
    assert c1["settings"]["stopValue"] == 4100 and c1["settings"]["investmentAmount"] == 500
    assert c1["status"] == c2["status"] == "running"
    again = await svc.reconciler.run_pass()
    assert again.plan.actions == ()


async def _carried_clone_edited_by_someone(
    sim: SimServer, svc: wiring.Service, policy_dir: Path, on_immutable_change: str
) -> tuple[dict[str, object], object]:
    """F1's carried clone, after its user edited it on the platform to differ from the master
    it follows (if the platform ever lets that happen); and the master's value of that key."""
    write_policy(
        policy_dir,
        "grid.yaml",
        AUTO_POLICY.replace(
            "on_immutable_change: recreate", f"on_immutable_change: {on_immutable_change}"
        ),
    )
    assert (await svc.reconciler.run_pass()).converged
    carried = clone(sim, F1)
    assert carried["masterBotId"] == GRID
    sim.state.edit_out_of_band(str(carried["botId"]), {"stopValue": 1234})
    return carried, sim.state.bot(GRID)["settings"]["stopValue"]


async def test_drift_on_a_carried_clone_is_reported_and_the_clone_recreated(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    carried, master_value = await _carried_clone_edited_by_someone(sim, svc, policy_dir, "recreate")
    before = writes(sim)
    result = await svc.reconciler.run_pass()
    drift = [n for n in result.plan.notes if n.action == "drift"]
    assert [(n.follower, n.bot) for n in drift] == [(F1, carried["botId"])]
    assert {k: (c.before, c.after) for k, c in drift[0].changes.items()} == {
        "stopValue": (master_value, 1234)
    }
    (event,) = await queries.audit(svc.store, action="drift")
    assert (event["follower"], event["bot"]) == (F1, carried["botId"])
    assert event["changes"] == {"stopValue": [master_value, 1234]}
    (grid,) = [m for m in (await queries.status(svc.store))["masters"] if m["master"] == GRID]
    assert grid["drifted"] == 1
    # A carried clone refuses edits: on_immutable_change: recreate makes a new carried clone.
    assert result.converged, result.to_json()
    assert [a.kind.value for a in result.plan.actions] == ["stop", "delete", "clone", "start"]
    assert writes(sim) - before == 4
    fresh = clone(sim, F1)
    assert fresh["botId"] != carried["botId"] and fresh["masterBotId"] == GRID
    assert fresh["settings"]["stopValue"] == master_value
    again = await svc.reconciler.run_pass()
    assert again.plan.actions == () and not again.plan.notes
    (grid,) = [m for m in (await queries.status(svc.store))["masters"] if m["master"] == GRID]
    assert (grid["drifted"], grid["platform_carried"], grid["in_sync"]) == (0, 2, 3)


async def test_drift_on_a_carried_clone_is_reported_and_flagged(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    carried, master_value = await _carried_clone_edited_by_someone(sim, svc, policy_dir, "flag")
    before = writes(sim)
    result = await svc.reconciler.run_pass()
    assert writes(sim) == before  # nothing it could send: the platform refuses the edit
    assert {n.action for n in result.plan.notes} == {"drift", "immutable_flagged"}
    (event,) = await queries.audit(svc.store, action="drift")
    assert event["changes"] == {"stopValue": [master_value, 1234]}
    assert [h.follower for h in result.plan.held] == [F1]
    (grid,) = [m for m in (await queries.status(svc.store))["masters"] if m["master"] == GRID]
    assert (grid["drifted"], grid["in_sync"], grid["platform_carried"]) == (1, 2, 2)
    assert clone(sim, F1)["botId"] == carried["botId"]


async def test_a_standing_drift_is_audited_once_per_condition(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    """Under ``flag`` copytrader cannot repair a carried clone's drift: it stands, and is
    audited once (with its ``immutable_flagged``), not every pass; once it clears and comes
    back, it is audited again (CONTRACT: standing conditions)."""
    carried, master_value = await _carried_clone_edited_by_someone(sim, svc, policy_dir, "flag")
    bot = str(carried["botId"])

    async def audited() -> list[tuple[str, dict[str, list[object]]]]:
        found = []
        for action in ("drift", "immutable_flagged"):
            found += [(action, e["changes"]) for e in await queries.audit(svc.store, action=action)]
        return sorted(found, key=str)

    for _ in range(3):
        result = await svc.reconciler.run_pass()
        assert {n.action for n in result.plan.notes} == {"drift", "immutable_flagged"}
        assert [h.follower for h in result.plan.held] == [F1]  # shown every pass
    once = await audited()
    assert [a for a, _ in once] == ["drift", "immutable_flagged"]

    sim.state.edit_out_of_band(bot, {"stopValue": master_value})  # a person puts it back
    cleared = await svc.reconciler.run_pass()
    assert cleared.converged and not cleared.plan.notes
    assert await audited() == once

    sim.state.edit_out_of_band(bot, {"stopValue": 1234})  # and the drift comes back
    for _ in range(2):
        await svc.reconciler.run_pass()
    assert await audited() == sorted(once + once, key=str)
    assert clone(sim, F1)["botId"] == bot  # flag: never recreated
