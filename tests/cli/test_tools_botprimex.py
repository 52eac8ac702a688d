"""The strategy managers' tools on BotPrimeX, as a user runs them: ``policy backtest`` is
refused in one line (the adapter declares no backtests), ``explain`` and ``follower`` work as
on HaasOnline, against the BotPrimeX simulator and an accounts file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copytrader.policy import loader
from copytrader.sim.botprimex.server import BpxServer
from tests.bpx_world import ALICE, BOB, BTC, CAROL
from tests.cli.test_botprimex_cli import bpx, env
from tests.reliability.support import run_cli

__all__ = ["bpx", "env"]  # the fixtures this module uses


async def test_backtest_is_refused_in_one_line(bpx: BpxServer, env: dict[str, str]) -> None:
    policy = Path(env["COPYTRADER_POLICY_DIR"]) / "btc.yaml"
    code, out, err = await run_cli("policy", "backtest", str(policy), env=env)
    assert (code, out) == (2, "")
    assert err == "copytrader policy backtest: the botprimex platform has no backtests\n"
    assert bpx.state.writes() == []


@pytest.mark.timeout(300)
async def test_explain_and_follower_edits(bpx: BpxServer, env: dict[str, str]) -> None:
    code, out, err = await run_cli("explain", BTC, ALICE[:3], "--json", env=env)
    assert code == 0, err
    doc = json.loads(out)
    stake = next(s for s in doc["settings"] if s["key"] == "stake_amount")
    assert (stake["layer"], stake["actual"], doc["bot"]) == ("scale", None, None)
    assert list(stake["steps"]) == ["master", "scale"]
    assert stake["steps"]["scale"] == stake["steps"]["master"] * 0.5
    assert doc["propagation"] == "copytrader"  # BotPrimeX: copytrader carries every clone

    code, _, err = await run_cli("reconcile", env=env)
    assert code == 0, err
    code, out, _ = await run_cli("explain", BTC, ALICE, "--json", env=env)
    doc = json.loads(out)
    assert doc["bot"] and all(s["in_sync"] for s in doc["settings"])

    policy = Path(env["COPYTRADER_POLICY_DIR"]) / "btc.yaml"
    before = policy.read_text(encoding="utf-8")
    code, out, err = await run_cli(
        "follower", "add", str(policy), CAROL, "--scale", "stake_amount=0.25", env=env
    )
    assert code == 0, err
    assert policy.read_text(encoding="utf-8").startswith(before)  # appended, the rest kept
    code, out, err = await run_cli("follower", "add", str(policy), "nobody", env=env)
    assert code == 2 and "nobody" in err and "nothing was written" in err
    code, out, err = await run_cli("follower", "pause", str(policy), BOB, env=env)
    assert code == 0, err
    code, _, err = await run_cli("policy", "check", env=env)
    assert code == 0, err
    read, problems = loader.load_file(policy)
    assert problems == [] and read is not None
    assert [(f.user, f.paused) for f in read.followers] == [
        (ALICE, False), (BOB, True), (CAROL, False)
    ]
