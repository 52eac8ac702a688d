"""The command line's output as people read it, through real subprocesses against the
simulator: a plan with an invalid file and with a flagged change (never "nothing to do"
while something waits), tables at 80 and 100 columns that split no id, timestamp or key,
short ids that work as filters, and ``status`` saying which pass its figures are from."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from copytrader.cli import tables
from copytrader.sim.haas.server import SimServer
from tests.cli.test_commands import cli, sim, workdir
from tests.world import DCA, FUTURES, GRID, write_policy

__all__ = ["sim", "workdir"]  # the fixtures this module uses


async def ok(sim: SimServer, workdir: Path, *args: str, **env: str) -> str:
    code, out, err = await cli(sim, workdir, *args, env=env)
    assert code == 0, err
    return out


async def test_plan_shows_a_flagged_change_and_an_invalid_file(
    sim: SimServer, workdir: Path
) -> None:
    await ok(sim, workdir, "reconcile")
    # A key /bots/edit refuses changes on the futures master: its policy says flag.
    amount = sim.state.bot(FUTURES)["settings"]["investmentAmount"]
    sim.state.edit_out_of_band(FUTURES, {"investmentAmount": amount * 2})

    code, out, _ = await cli(sim, workdir, "plan", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["actions"] == [] and doc["problems"] == []
    assert {h["reason"] for h in doc["held"]} == {"immutable_flagged"}
    assert len(doc["held"]) == 3 and {h["master"] for h in doc["held"]} == {FUTURES}
    assert all(set(h) == {"reason", "master", "follower", "bot", "changes"} for h in doc["held"])
    assert all(list(h["changes"]) == ["investmentAmount"] for h in doc["held"])

    code, out, _ = await cli(sim, workdir, "plan")
    assert code == 0
    assert "nothing to do" not in out
    assert "plan: no platform write to make" in out
    assert "held: waiting for a person" in out and out.count("immutable_flagged") == 3

    status = json.loads(await ok(sim, workdir, "status", "--json"))
    futures = next(m for m in status["masters"] if m["master"] == FUTURES)
    assert futures["in_sync"] == 3  # the flag is on record from the next pass on

    write_policy(workdir / "policies", "zz-bad.yaml", f"master: {DCA}1\nfolowers: []\n")
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    assert code == 1
    doc = json.loads(out)
    assert len(doc["held"]) == 3
    [problem] = doc["problems"]
    assert problem == {
        "file": str(workdir / "policies" / "zz-bad.yaml"),
        "line": 2,
        "col": 1,
        "message": "unknown key 'folowers' in the policy; did you mean 'followers'? (expected "
        "one of master, defaults, limits, locked, followers, on_follower_removed, "
        "on_master_stopped, on_immutable_change, propagation, on_duplicate, on_existing)",
    }
    code, out, _ = await cli(sim, workdir, "plan", env={"COLUMNS": "100"})
    assert code == 1 and "nothing to do" not in out
    assert "1 invalid policy file (nothing of it is applied), 1 problem:" in out
    assert f"{workdir / 'policies' / 'zz-bad.yaml'}:2:1: unknown key 'folowers'" in out

    code, out, _ = await cli(sim, workdir, "reconcile")
    assert code == 1
    assert out.startswith("reconcile: no platform write to make")
    assert "plan" not in out.split("\n")[0]
    code, out, _ = await cli(sim, workdir, "reconcile", "--json")
    doc = json.loads(out)
    assert code == 1 and len(doc["problems"]) == 1 and len(doc["held"]) == 3

    status_text = await ok(sim, workdir, "status", COLUMNS="100")
    assert "in sync" in status_text and re.search(
        r"figures from pass [0-9a-f]{16} \(ok\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, "
        r"\d+ seconds? ago",
        status_text,
    ), status_text
    # two reconcile processes saw the flagged change: audited once per follower, not per pass
    flagged = await ok(sim, workdir, "audit", "--action", "immutable_flagged", "--json")
    assert len(flagged.splitlines()) == 3
    as_of = json.loads(await ok(sim, workdir, "status", "--json"))["as_of"]
    assert as_of["state"] == "ok" and as_of["older"] == []
    assert re.search(r"\b0/3\b", status_text)  # the flagged clones are not in sync


async def test_an_empty_policy_folder_says_so(sim: SimServer, workdir: Path) -> None:
    for f in (workdir / "policies").iterdir():
        f.unlink()
    code, out, err = await cli(sim, workdir, "policy", "check")
    assert (code, out) == (0, "")
    assert err.strip() == f"no policy files in {workdir / 'policies'} (*.yaml, *.yml)"
    code, out, _ = await cli(sim, workdir, "plan")
    assert code == 0
    folder = workdir / "policies"
    assert out.strip() == f"nothing to do: no policy files in {folder} (*.yaml, *.yml)"
    code, out, err = await cli(sim, workdir, "policy", "check", env={"COPYTRADER_POLICY_DIR":
                                                                      str(workdir / "none")})
    assert code == 2 and "the policy folder" in err and "does not exist" in err


async def test_policy_check_counts_in_words(sim: SimServer, workdir: Path) -> None:
    code, _, err = await cli(sim, workdir, "policy", "check")
    assert (code, err.strip()) == (0, "all 3 policy files are valid")
    write_policy(workdir / "policies", "zz.yaml", f"master: {DCA}2\nlocked: x\n")
    code, out, err = await cli(sim, workdir, "policy", "check")
    assert code == 2 and err.strip() == "2 problems in 1 file"
    assert len(out.splitlines()) == 2


def _short(value: str | None) -> str | None:
    return None if value is None else value[:8]


def _check_fits(text: str, width: int, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """No line wider than ``width``; each row's short ids (of the columns shown), its time
    and each changed key appear whole."""
    lines = text.splitlines()
    assert lines and all(len(line) <= width for line in lines), max(lines, key=len)
    header = next(line for line in lines if line.lstrip().startswith(("time", "action", "master")))
    shown = [c for c in columns if re.search(rf"\b{c}\b", header)]
    assert "master" in shown
    for r in rows:
        for col in shown:
            short = _short(r.get(col))
            if short:
                assert re.search(rf"\b{re.escape(short)}\b", text), (col, short)
        if "ts" in r:
            assert tables.when(r["ts"]) in text
        if r.get("action") == "clone":
            continue  # a new clone's table lists only the values not the master's
        for key in r.get("changes") or {}:
            assert f"{key}:" in text, key
    for token in re.findall(r"\b[0-9a-f]{5,}\b", text):
        if re.search(r"[a-f]", token) and re.search(r"\d", token):
            assert len(token) >= 8, f"a piece of an id: {token}"


@pytest.mark.parametrize("width", [80, 100])
async def test_tables_fit_80_and_100_columns_without_splitting(
    sim: SimServer, workdir: Path, width: int
) -> None:
    await ok(sim, workdir, "reconcile")
    sim.state.edit_out_of_band(GRID, {"stopExit": True, "gridCount": 3})
    await ok(sim, workdir, "reconcile")
    env = {"COLUMNS": str(width)}

    rows = [json.loads(line) for line in (await ok(sim, workdir, "audit", "--json")).splitlines()]
    text = await ok(sim, workdir, "audit", **env)
    _check_fits(text, width, rows, ["master", "follower", "bot"])
    status = json.loads(await ok(sim, workdir, "status", "--json"))["masters"]
    _check_fits(await ok(sim, workdir, "status", **env), width, status, ["master"])
    history = json.loads(await ok(sim, workdir, "history", "--json"))["history"]
    _check_fits(await ok(sim, workdir, "history", **env), width, history, ["master"])

    sim.state.edit_out_of_band(GRID, {"stopValue": 3999, "tradeToFillGrid": True})
    plan = json.loads(await ok(sim, workdir, "plan", "--json"))["actions"]
    assert plan
    _check_fits(await ok(sim, workdir, "plan", **env), width, plan, ["master", "follower", "bot"])

    piped = await ok(sim, workdir, "audit", COLUMNS="")
    assert max(len(line) for line in piped.splitlines()) <= 80  # piped: 80 columns
    wide = await ok(sim, workdir, "audit", "--wide", **env)
    assert all(r["master"] in wide for r in rows if r["master"])
    assert all(r["bot"] in wide for r in rows if r["bot"])


async def test_the_short_ids_a_table_shows_work_as_filters(sim: SimServer, workdir: Path) -> None:
    await ok(sim, workdir, "reconcile")
    text = await ok(sim, workdir, "audit", "--wide")
    assert GRID in text
    rows = [json.loads(x) for x in (await ok(sim, workdir, "audit", "--json")).splitlines()]
    grid_rows = [r for r in rows if r["master"] == GRID]
    follower = grid_rows[0]["follower"]

    by_short = await ok(sim, workdir, "audit", "--master", GRID[:8], "--json")
    assert [json.loads(x) for x in by_short.splitlines()] == grid_rows
    both = await ok(sim, workdir, "audit", "--master", GRID[:8], "--follower", follower[:8],
                    "--json")
    assert {json.loads(x)["follower"] for x in both.splitlines()} == {follower}
    hist = json.loads(await ok(sim, workdir, "history", "--master", GRID[:6], "--json"))
    assert {r["master"] for r in hist["history"]} == {GRID}

    code, out, err = await cli(sim, workdir, "audit", "--master", "6dafad4x")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "copytrader audit: --master: no master in the audit trail starts with '6dafad4x'"
    )
    code, out, err = await cli(sim, workdir, "history", "--follower", "nobody")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "copytrader history: --follower: no follower in the history starts with 'nobody'"
    )
