"""``copytrader policy backtest`` as a user runs it: a real subprocess against the simulator.

The simulator's backtests are deterministic and driven by the settings, so the figures here
are real numbers: the master's own, each follower's (identical settings run once), the
difference. Progress goes to stderr, a failing backtest is exit 1 with the others shown,
Ctrl-C cancels the running backtests on the simulator (exit 130).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from copytrader.cli.commands import backtest as command
from copytrader.sim.haas.records import BacktestRule
from copytrader.sim.haas.server import SimServer
from tests.cli.test_commands import KEY, cli, sim, workdir
from tests.world import F1, F2, F3, F4, GRID, write_policy

__all__ = ["sim", "workdir"]  # the fixtures this module uses
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


async def backtest(
    sim: SimServer, workdir: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, Any, str]:
    code, out, err = await cli(sim, workdir, "policy", "backtest", *args, env={
        "COPYTRADER_RATE_LIMIT_PER_MINUTE": "6000", **(env or {})})
    return code, (json.loads(out) if "--json" in args and out.strip() else out), err


async def test_figures_of_the_master_and_each_follower(sim: SimServer, workdir: Path) -> None:
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    desired = {
        a["follower"]: {k: v[1] for k, v in a["changes"].items()}
        for a in json.loads(out)["actions"]
        if a["action"] == "clone" and a["master"] == GRID
    }
    before = time.time()
    code, doc, err = await backtest(sim, workdir, "policies/eth-grid.yaml", "--json")
    assert code == 0, err
    assert (doc["master"], doc["file"], doc["days"], doc["backtests"]) == (
        GRID, "policies/eth-grid.yaml", 30, 4)
    master = doc["master_result"]
    assert (master["state"], master["roi"], master["max_drawdown_pct"], master["win_rate"],
            master["profit_factor"], master["profit"], master["trades"]) == (
        "completed", 7.04, 8.25, 1.0, None, 70.36, 1)
    rows = {f["follower"]: f for f in doc["followers"]}
    assert list(rows) == [F1, F2, F3]  # policy order
    # F1's hard stop (Price, 3200) is hit at once: no trade, a deeper drawdown
    assert (rows[F1]["roi"], rows[F1]["max_drawdown_pct"], rows[F1]["trades"]) == (0.0, 13.37, 0)
    assert rows[F1]["diff"] == {"roi": -7.04, "max_drawdown_pct": 5.12, "profit_factor": None,
                                "win_rate": None}
    # F2 invests half: the same ROI, half the profit
    assert (rows[F2]["roi"], rows[F2]["profit"]) == (7.04, 35.18)
    assert rows[F2]["diff"] == {"roi": 0.0, "max_drawdown_pct": 0.0, "profit_factor": None,
                                "win_rate": 0.0}
    assert rows[F3]["paused"] is True and rows[F3]["same_as_master"] is False
    # Each backtest ran the planner's desired settings, as the master's owner, once
    runs = list(sim.state.backtests.values())
    assert len(runs) == 4
    by_settings = [bt["settings"] for bt in runs]
    for follower, settings in desired.items():
        assert by_settings.count(settings) == 1, follower
    assert {bt["userId"] for bt in runs} == {sim.state.bot(GRID)["userId"]}
    end = runs[0]["endUnix"]
    assert end % 3600 == 0 and before - 3600 <= end <= time.time()
    assert runs[0]["startUnix"] == end - 30 * 86400
    assert sim.state.writes() == []  # no bot was touched


async def test_identical_settings_run_once(sim: SimServer, workdir: Path) -> None:
    write_policy(workdir / "policies", "eth-grid.yaml", f"""\
        master: {GRID}
        followers:
          - user: {F1}
          - user: {F2}
            scale: {{investmentAmount: 0.5}}
          - user: {F4}
            overrides: {{investmentAmount: 500}}
        """)
    code, doc, err = await backtest(sim, workdir, "policies/eth-grid.yaml", "--json", "--days",
                                    "7")
    assert code == 0, err
    assert doc["backtests"] == 2
    rows = {f["follower"]: f for f in doc["followers"]}
    assert rows[F1]["same_as_master"] is True
    assert rows[F1]["backtest"] == doc["master_result"]["backtest"]
    assert rows[F2]["backtest"] == rows[F4]["backtest"] != rows[F1]["backtest"]
    assert len(sim.state.backtests) == 2
    assert {bt["endUnix"] - bt["startUnix"] for bt in sim.state.backtests.values()} == {
        7 * 86400}


async def test_progress_on_stderr_and_the_table_on_stdout(sim: SimServer, workdir: Path) -> None:
    sim.state.backtest_rules.append(BacktestRule(seconds=2.5))  # progress by the clock
    code, out, err = await backtest(sim, workdir, "policies/btc-dca.yaml",
                                    env={"FORCE_COLOR": "1"})  # a terminal: the bars move
    assert code == 0, err
    frames, out = ANSI.sub("", err), ANSI.sub("", out)
    assert "master" in frames and "executing" in frames and "completed" in frames
    seen = {int(p) for p in re.findall(r"\b(\d{1,3})%", frames)}
    assert seen & set(range(1, 100)), seen  # part-way, while executing
    assert frames.count("100%") >= 3
    assert "master (own settings)" in out and "-32.10%" in out  # the DCA master's ROI
    assert "-24.21% (+7.89)" in out  # F1's ROI, and against the master's
    assert "100%" not in out and "executing" not in out  # no progress on stdout


async def test_a_failing_backtest_is_exit_1_and_the_others_still_print(
    sim: SimServer, workdir: Path
) -> None:
    sim.state.backtest_rules.append(
        BacktestRule(match={"investmentAmount": 500}, fail="no price data for that window")
    )
    code, doc, err = await backtest(sim, workdir, "policies/eth-grid.yaml", "--json")
    assert code == 1
    rows = {f["follower"]: f for f in doc["followers"]}
    assert (rows[F2]["state"], rows[F2]["error"], rows[F2]["roi"], rows[F2]["diff"]) == (
        "failed", "no price data for that window", None, None)
    assert rows[F1]["state"] == rows[F3]["state"] == doc["master_result"]["state"] == "completed"
    assert rows[F3]["roi"] == 7.04
    assert f"{F2[:8]}: backtest failed: no price data for that window" in err
    code, out, _ = await backtest(sim, workdir, "policies/eth-grid.yaml")
    assert code == 1
    assert "failed" in out and "+7.04%" in out  # the table still has every row


async def test_ctrl_c_cancels_the_running_backtests_on_the_platform(
    sim: SimServer, workdir: Path
) -> None:
    sim.state.backtest_rules.append(BacktestRule(seconds=120))
    env = {**os.environ, "COPYTRADER_API_URL": sim.url, "COPYTRADER_API_KEY": KEY,
           "COPYTRADER_DATABASE_URL": f"sqlite:///{workdir / 'ct.db'}",
           "COPYTRADER_POLICY_DIR": str(workdir / "policies"),
           "COPYTRADER_RATE_LIMIT_PER_MINUTE": "6000"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.cli.main", "policy", "backtest",
        "policies/eth-grid.yaml", "--parallel", "3",
        env=env, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(sim.state.backtests) < 3 or not all(
        bt["polls"] for bt in sim.state.backtests.values()
    ):
        assert time.monotonic() < deadline, "the backtests did not start"
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130, err.decode()
    assert out == b""
    listed = {i: bt["final"] for i, bt in sim.state.backtests.items()}
    assert len(listed) == 3  # the fourth never started
    assert all(s is not None and s[0] == "cancelled" for s in listed.values()), listed
    assert "cancelled 3 backtests on the platform" in err.decode()


async def test_an_invalid_file_is_exit_2_with_its_problems(sim: SimServer, workdir: Path) -> None:
    write_policy(workdir / "policies", "eth-grid.yaml", f"""\
        master: {GRID}
        followers:
          - user: nobody-at-all
        """)
    code, out, err = await backtest(sim, workdir, "policies/eth-grid.yaml")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "copytrader policy backtest: policies/eth-grid.yaml:3:11: follower user "
        "nobody-at-all not found on the platform"
    )
    assert sim.state.backtests == {}


@pytest.mark.parametrize("days", ["0", "367", "x"])
async def test_a_bad_days_is_exit_2(sim: SimServer, workdir: Path, days: str) -> None:
    code, out, err = await backtest(sim, workdir, "policies/eth-grid.yaml", "--days", days)
    assert (code, out) == (2, "")
    assert "--days" in err
    assert sim.state.backtests == {}


class NoBacktests:
    """A platform adapter that declares no backtests (BotPrimeX)."""

    name = "botprimex"
    capabilities: frozenset[Any] = frozenset()


async def test_a_platform_without_backtests_is_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(file=Path("p.yaml"), days=30, parallel=4, timeout=60, json=False)
    code = await command.run(args, NoBacktests(), rate_limit=100)  # type: ignore[arg-type]
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "copytrader policy backtest: the botprimex platform has no backtests\n"


@pytest.mark.parametrize(
    ("rate", "parallel", "expected"), [(100, 4, 4.8), (6000, 4, 1.0), (None, 4, 1.0),
                                       (100, 1, 1.2)],
)
def test_polls_take_at_most_half_the_rate_limit(
    rate: int | None, parallel: int, expected: float
) -> None:
    assert command.poll_seconds(rate, parallel) == pytest.approx(expected)
