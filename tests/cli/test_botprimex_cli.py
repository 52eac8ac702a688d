"""The CLI on BotPrimeX as a user runs it: real ``copytrader`` subprocesses against the
BotPrimeX simulator, an accounts file and a SQLite file.

``policy check`` checks each follower against its account: in the accounts file, its key
working, the master's exchange connected; a problem of a policy file is ``PATH:LINE:COL``,
a bad accounts file is exit 2 naming it. ``plan``, ``reconcile`` and ``status`` work as on
HaasOnline, with one ``GET /bots`` page per account.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.sim.botprimex.server import BpxServer
from tests.bpx_world import ALICE, BOB, BTC, CAROL, DAVE, KEYS, MASTER_KEY, bpx_sim, clone
from tests.bpx_world import write_accounts as accounts_file
from tests.reliability.support import run_cli, subprocess_env
from tests.world import write_policy

GOOD = f"""\
master: {BTC}
defaults:
  overrides: {{stop_loss: -5}}
followers:
  - user: {ALICE}
    scale: {{stake_amount: 0.5}}
  - user: {BOB}
"""


@pytest.fixture
async def bpx() -> AsyncIterator[BpxServer]:
    async with bpx_sim(seed=5) as server:
        yield server


@pytest.fixture
def env(bpx: BpxServer, tmp_path: Path) -> dict[str, str]:
    policies = tmp_path / "policies"
    policies.mkdir()
    write_policy(policies, "btc.yaml", GOOD)
    return subprocess_env(
        COPYTRADER_PLATFORM="botprimex",
        COPYTRADER_API_URL=bpx.url,
        COPYTRADER_API_KEY=MASTER_KEY,
        COPYTRADER_ACCOUNTS_FILE=str(accounts_file(tmp_path)),
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policies),
    )


def _no_keys(*texts: str) -> None:
    for text in texts:
        for key in (MASTER_KEY, *KEYS.values()):
            assert key not in text


async def test_policy_check_plan_reconcile_status(bpx: BpxServer, env: dict[str, str]) -> None:
    code, out, err = await run_cli("policy", "check", env=env)
    assert (code, out) == (0, ""), err
    assert all(r.method == "GET" for r in bpx.state.requests)
    code, out, err = await run_cli("plan", "--json", env=env)
    assert code == 0, err
    doc = json.loads(out)
    assert sorted((a["action"], a["follower"]) for a in doc["actions"]) == [
        ("clone", ALICE),
        ("clone", BOB),
        ("start", ALICE),
        ("start", BOB),
    ]
    assert bpx.state.writes() == []
    code, out, err = await run_cli("reconcile", "--json", env=env)
    assert code == 0, err
    assert {a["outcome"] for a in json.loads(out)["actions"]} == {"ok"}
    assert clone(bpx, ALICE)["stake_amount"] == 50 and clone(bpx, BOB)["stop_loss"] == -5
    code, out, err = await run_cli("status", "--json", env=env)
    [master] = json.loads(out)["masters"]
    assert (master["followers"], master["clones"], master["in_sync"]) == (2, 2, 2)
    code, out, err = await run_cli("reconcile", "--json", env=env)
    assert (code, json.loads(out)["actions"]) == (0, [])
    _no_keys(out, err)


async def test_policy_check_names_each_follower_problem_with_its_position(
    bpx: BpxServer, env: dict[str, str], tmp_path: Path
) -> None:
    policies = Path(env["COPYTRADER_POLICY_DIR"])
    write_policy(
        policies,
        "btc.yaml",
        f"""\
master: {BTC}
limits:
  stake_amount: {{min: 0}}
followers:
  - user: {ALICE}
    overrides: {{name: Mine, stop_loss: 5}}
  - user: {DAVE}
  - user: zed
  - user: {CAROL}
    overrides: {{max_open_trades: 2.5}}
""",
    )
    # carol's key no longer works
    accounts_file(tmp_path, {**KEYS, CAROL: "canary-bpx-revoked-Kx1"})
    code, out, err = await run_cli("policy", "check", env=env)
    assert code == 2, err
    file = policies / "btc.yaml"
    assert out.splitlines() == [
        f"{file}:3:23: limits of stake_amount: must be above 0, got 0",
        f"{file}:6:17: name follows the master: it cannot be overridden",
        f"{file}:6:29: stop_loss: must be below 0, got 5",
        f"{file}:7:11: follower account dave has not connected exchange binance "
        "(connected: kraken)",
        f"{file}:8:11: follower user zed not found on the platform",
        f"{file}:9:11: follower {CAROL}: its API key was refused (account: API key refused "
        "(HTTP 401): missing or invalid API key)",
        f"{file}:10:17: max_open_trades: must be a whole number, got 2.5",
    ], out
    assert bpx.state.writes() == []
    _no_keys(out, err, "canary-bpx-revoked-Kx1")


async def test_an_accounts_file_listing_the_master_account_is_refused(
    bpx: BpxServer, env: dict[str, str], tmp_path: Path
) -> None:
    # The master account behind a second key, listed as a follower account.
    bpx.state.add_key("master", "canary-bpx-second-master-key")
    accounts_file(tmp_path, {**KEYS, "boss": "canary-bpx-second-master-key"})
    code, out, err = await run_cli("policy", "check", env=env)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and out == "", err
    assert len(lines) == 1 and "COPYTRADER_ACCOUNTS_FILE" in lines[0]
    assert str(tmp_path / "accounts.toml") in lines[0] and "boss is the master account" in lines[0]
    # a pass leaves that account out and converges the others; reconcile exits 1
    code, out, err = await run_cli("reconcile", "--json", env=env)
    assert code == 1, err
    doc = json.loads(out)
    assert [u["account"] for u in doc["unread"]] == ["boss"]
    assert {a["outcome"] for a in doc["actions"]} == {"ok"}
    _no_keys(out, err, "canary-bpx-second-master-key")
