"""End to end: ``propagation: auto`` against the real simulator, client, store and loader."""

from __future__ import annotations

from pathlib import Path

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
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
        (F1, "delete"), (F1, "clone"), (F2, "delete"), (F2, "clone")
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
