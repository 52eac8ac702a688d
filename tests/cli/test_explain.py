"""``copytrader explain`` as a user runs it: a real subprocess against the simulator.

What it shows is what the planner clones with (``plan --json``), and what the platform
holds (the simulator's own record of the clone); it sends no write and records nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copytrader.sim.haas.seed import DEMO
from copytrader.sim.haas.server import SimServer
from tests.cli.test_commands import cli, sim, workdir
from tests.world import DCA, F1, F2, F3, F4, GRID

FGRID, G3 = DEMO.futures_grid_master, DEMO.futures_followers[2]

__all__ = ["sim", "workdir"]  # the fixtures this module uses


async def explain(sim: SimServer, workdir: Path, *args: str) -> tuple[int, Any, str]:
    code, out, err = await cli(sim, workdir, "explain", *args)
    return code, (json.loads(out) if "--json" in args and code == 0 else out), err


@pytest.mark.timeout(300)  # a dozen subprocesses on a shared machine
async def test_explain_shows_what_the_planner_clones_and_what_the_clone_holds(
    sim: SimServer, workdir: Path
) -> None:
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    assert code == 0
    clones = {
        (a["master"], a["follower"]): a["changes"]
        for a in json.loads(out)["actions"]
        if a["action"] == "clone"
    }
    assert len(clones) == 8
    # One follower of each master (the layer combinations are the core tests' table).
    clones = {k: v for k, v in clones.items() if k in {(GRID, F1), (FGRID, G3), (DCA, F4)}}
    assert len(clones) == 3
    writes = len(sim.state.writes())
    for (master, follower), changes in clones.items():
        # unique prefixes, as a person types them
        code, doc, err = await explain(sim, workdir, master[:6], follower[:8], "--json")
        assert code == 0, err
        assert (doc["master"], doc["follower"], doc["bot"]) == (master, follower, None)
        assert {s["key"]: [None, s["value"]] for s in doc["settings"]} == changes
        for s in doc["settings"]:
            assert s["actual"] is None
            assert next(iter(s["steps"])) == "master"
            assert list(s["steps"])[-1] == s["layer"]
            assert s["steps"][s["layer"]] == s["value"]
        assert doc["propagation"] == "copytrader"
    assert len(sim.state.writes()) == writes  # read-only

    code, _, _ = await cli(sim, workdir, "reconcile", "--json")
    assert code == 0
    writes = len(sim.state.writes())
    code, audit_before, _ = await cli(sim, workdir, "audit", "--json")
    # a person edits one clone on the platform (F1's of the grid): explain shows the actual
    # value beside the desired one there, and the others in sync
    edited = next(b for b in sim.state.bots_of(F1) if b["type"] == sim.state.bot(GRID)["type"])
    sim.state.edit_out_of_band(edited["botId"], {"stopValue": 1234})
    docs = {}
    for master, follower in clones:
        code, doc, err = await explain(sim, workdir, master, follower, "--json")
        assert code == 0, err
        docs[(master, follower)] = doc
        held = sim.state.bot(doc["bot"])
        assert held["userId"] == follower
        for s in doc["settings"]:
            if (doc["bot"], s["key"]) == (edited["botId"], "stopValue"):
                continue
            assert s["actual"] == s["value"] == held["settings"][s["key"]], s
            assert s["in_sync"] is True
    doc = docs[(GRID, F1)]
    assert doc["bot"] == edited["botId"]
    stop = next(s for s in doc["settings"] if s["key"] == "stopValue")
    assert stop == {
        "key": "stopValue",
        "value": 3200,
        "layer": "override",
        "steps": {"master": 0, "defaults": 3500, "override": 3200},
        "actual": 1234,
        "in_sync": False,
    }
    amount = next(s for s in doc["settings"] if s["key"] == "investmentAmount")
    # the defaults' scale factor (F1 has none of its own): the "defaults" layer
    assert (amount["layer"], amount["steps"]) == ("defaults", {"master": 1000, "defaults": 1000})
    symbol = next(s for s in doc["settings"] if s["key"] == "symbol")
    assert symbol["layer"] == "locked"
    assert len(sim.state.writes()) == writes
    code, audit_after, _ = await cli(sim, workdir, "audit", "--json")
    assert audit_after == audit_before  # explain records nothing

    # the human form: the same facts, the propagation, the difference marked
    code, out, err = await explain(sim, workdir, GRID[:8], F1[:8], "--wide")
    assert code == 0, err
    assert "propagation copytrader" in out
    line = next(x for x in out.splitlines() if "stopValue" in x)
    assert "override" in line and "3200" in line and "1234 (differs)" in line
    assert "master 0 -> defaults 3500 -> override 3200" in line
    assert "1 setting differs from the desired value" in out
    code, narrow, err = await explain(sim, workdir, GRID[:8], F1[:8])  # piped: 80 columns
    assert code == 0, err
    assert max(len(x) for x in narrow.splitlines()) <= 80
    assert "stopValue" in narrow and "1234 (differs)" in narrow


async def test_explain_refusals_exit_2_with_one_line(sim: SimServer, workdir: Path) -> None:
    code, out, err = await explain(sim, workdir, "zzz", F1)
    assert (code, out) == (2, "")
    assert err.strip() == "copytrader explain: no master of a valid policy starts with 'zzz'"
    code, _, err = await explain(sim, workdir, DCA, F3)  # F3 is not a follower of the DCA
    assert code == 2
    assert err.strip() == f"copytrader explain: no follower of {DCA} starts with '{F3}'"
    code, _, err = await explain(sim, workdir, "", F1)  # an empty prefix matches nothing
    assert code == 2 and err.strip().endswith("no master of a valid policy starts with ''")

    # an invalid policy file: explain says which file, not "no match"
    (workdir / "policies" / "eth-grid.yaml").write_text(
        (workdir / "policies" / "eth-grid.yaml").read_text() + "\nsurprise: 1\n"
    )
    code, _, err = await explain(sim, workdir, GRID[:6], F2)
    assert code == 2
    assert err.strip() == (
        f"copytrader explain: the policy file {workdir / 'policies' / 'eth-grid.yaml'} of "
        f"master {GRID} is invalid (copytrader policy check says why)"
    )
    assert len(err.strip().splitlines()) == 1

    # a master gone from the platform: nothing to explain, exit 1
    code, _, err = await explain(sim, workdir, DCA, F1)
    assert code == 0, err
    sim.state.delete_out_of_band(DCA)
    code, _, err = await explain(sim, workdir, DCA, F1)
    assert code == 1
    assert err.strip() == f"copytrader explain: master bot {DCA} is not on the platform"
