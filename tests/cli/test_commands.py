"""The CLI as a user runs it: real subprocesses against a real simulator and a SQLite file.

stdout must carry only the result (so ``--json`` output parses), exit codes follow the
contract, and the API key never appears in any output.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.sim.haas.server import SimServer
from tests.world import demo_sim

KEY = "canary-cli-7d1f0b2a"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=3) as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    return tmp_path


async def cli(
    sim: SimServer, workdir: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    full_env = {
        **os.environ,
        "COPYTRADER_API_URL": sim.url,
        "COPYTRADER_API_KEY": KEY,
        "COPYTRADER_DATABASE_URL": f"sqlite:///{workdir / 'ct.db'}",
        "COPYTRADER_POLICY_DIR": str(workdir / "policies"),
        **(env or {}),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "copytrader.cli.main",
        *args,
        cwd=workdir,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    stdout, stderr = out.decode(), err.decode()
    assert KEY not in stdout and KEY not in stderr
    assert proc.returncode is not None
    return proc.returncode, stdout, stderr


async def test_plan_reconcile_status_audit_drift(sim: SimServer, workdir: Path) -> None:
    code, out, _ = await cli(sim, workdir, "policy", "check")
    assert code == 0

    writes_before = len(sim.state.writes())
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    assert code == 0
    plan = json.loads(out)
    assert len(sim.state.writes()) == writes_before  # plan sends read requests only
    assert {a["action"] for a in plan["actions"]} == {"clone", "start"}
    for a in plan["actions"]:
        extra = {"propagation"} if a["action"] == "clone" else set()
        assert set(a) == {"action", "master", "follower", "bot", "changes", *extra}

    code, out, _ = await cli(sim, workdir, "reconcile", "--json")
    assert code == 0
    done = json.loads(out)
    assert [a["action"] for a in done["actions"]] == [a["action"] for a in plan["actions"]]
    assert all(a["outcome"] == "ok" and a["error"] is None for a in done["actions"])
    assert all(a["bot"] for a in done["actions"])

    code, out, _ = await cli(sim, workdir, "reconcile", "--json")
    assert code == 0 and json.loads(out) == {"actions": [], "problems": [], "held": []}

    code, out, _ = await cli(sim, workdir, "status", "--json")
    assert code == 0
    doc = json.loads(out)
    masters = doc["masters"]
    assert len(masters) == 3 and doc["risk_stops"] == []
    for m in masters:
        assert set(m) == {
            "master",
            "master_status",
            "master_roi",
            "followers",
            "clones",
            "in_sync",
            "drifted",
            "failed",
            "paused",
            "follower_roi_mean",
            "suspected_duplicates",
            "adopt_candidates",
            "risk_stopped",
            "platform_carried",
        }
        assert m["clones"] == m["followers"] == m["in_sync"]
        assert m["suspected_duplicates"] == m["adopt_candidates"] == m["risk_stopped"] == 0
        assert m["platform_carried"] == 0  # the example policies: propagation: copytrader

    code, out, _ = await cli(sim, workdir, "audit", "--json", "--action", "clone", "--since", "1h")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == sum(1 for a in plan["actions"] if a["action"] == "clone")
    for e in events:
        assert {
            "ts",
            "run_id",
            "action",
            "master",
            "follower",
            "bot",
            "changes",
            "outcome",
            "error",
        } <= set(e)
    code, out, _ = await cli(sim, workdir, "audit", "--json", "--limit", "2")
    assert len(out.splitlines()) == 2

    clone = events[0]["bot"]
    sim.state.edit_out_of_band(
        clone, {"takeProfit": 9.5} if "7d7e" in events[0]["master"] else {"stopValue": 1234}
    )
    code, out, _ = await cli(sim, workdir, "drift", "--json")
    assert code == 0
    drift = json.loads(out)["drift"]
    assert [(d["bot"], set(d)) for d in drift] == [
        (clone, {"master", "follower", "bot", "changes"})
    ]

    code, out, _ = await cli(sim, workdir, "status")
    assert code == 0 and "in sync" in out


async def test_invalid_policy_exit_codes(sim: SimServer, workdir: Path) -> None:
    (workdir / "policies" / "bad.yaml").write_text(
        "master: 7d7e643ac399492c8adf1add09316abb\nfollowers: {}\n"
    )
    code, out, _ = await cli(sim, workdir, "policy", "check")
    assert code == 2
    assert "bad.yaml:2:" in out
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    assert code == 1  # an invalid file: plan says so, and still plans the good files
    doc = json.loads(out)
    assert doc["actions"]
    mine = [p for p in doc["problems"] if p["file"].endswith("bad.yaml")]
    assert [p["line"] for p in mine if "followers must be a list" in p["message"]] == [2]
    assert all(set(p) == {"file", "line", "col", "message"} for p in doc["problems"])
    code, out, _ = await cli(sim, workdir, "plan")
    assert code == 1 and "bad.yaml:2:" in out and "nothing to do" not in out
    code, out, err = await cli(sim, workdir, "reconcile", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["actions"]  # the good files still converge
    assert any(p["line"] == 2 and p["file"].endswith("bad.yaml") for p in doc["problems"])
    assert "bad.yaml:2:" in err
    code, out, _ = await cli(sim, workdir, "plan")
    assert code == 1 and "bad.yaml:2:" in out and "nothing to do" not in out


async def test_configuration_errors_exit_2_with_one_line(sim: SimServer, workdir: Path) -> None:
    code, out, err = await cli(sim, workdir, "plan", env={"COPYTRADER_CONCURRENCY": "many"})
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "COPYTRADER_CONCURRENCY" in err
    code, _, err = await cli(sim, workdir, "audit", "--since", "yesterday-ish")
    assert code == 2 and "--since" in err
    code, _, err = await cli(sim, workdir, "frobnicate")
    assert code == 2


async def test_platform_down_fails_cleanly(sim: SimServer, workdir: Path) -> None:
    await sim.stop()
    code, out, err = await cli(
        sim, workdir, "reconcile", "--json", env={"COPYTRADER_TIMEOUT_SECONDS": "1"}
    )
    assert code == 1
    assert json.loads(out) == {"actions": [], "problems": [], "held": []}
    assert "Traceback" not in err


async def test_history_csv_and_bad_bucket(sim: SimServer, workdir: Path) -> None:
    assert (await cli(sim, workdir, "reconcile"))[0] == 0
    code, out, _ = await cli(
        sim, workdir, "history", "--master", "6dafad4e364449c9906296aab8eff2f7", "--csv"
    )
    assert code == 0
    header, *rows = out.splitlines()
    assert "tracking_error" in header and len(rows) == 1
    code, out, err = await cli(sim, workdir, "history", "--bucket", "fortnightly")
    assert code == 2 and out == "" and "--bucket" in err
