"""BotPrimeX accounts under load: each account's own rate limit and Retry-After block.

A 429 burst on one follower account (a Retry-After of several seconds) holds back that
account alone: every other follower's clone is made and started while it waits, nothing is
sent with its key inside the window, and it converges once the window is over. Each account
is paced at its own plan's limit (from ``GET /account``), never above the ceiling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.platform.botprimex.client import BotPrimeXClient
from copytrader.reconcile import wiring
from copytrader.settings import Secret
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.faults import Fault
from tests.bpx_world import (
    ALICE,
    BOB,
    BTC,
    CAROL,
    KEYS,
    MASTER_KEY,
    bpx_settings,
    bpx_sim,
    clone,
    write_accounts,
)
from tests.sends import SendLog, check_retry_after
from tests.world import write_policy

RETRY_AFTER = 3
POLICY = f"""\
master: {BTC}
followers:
  - user: {ALICE}
  - user: {BOB}
  - user: {CAROL}
"""


@pytest.fixture
async def bpx() -> AsyncIterator[BpxServer]:
    async with bpx_sim(seed=3) as server:
        yield server


async def test_a_429_burst_on_one_account_holds_back_that_account_only(
    bpx: BpxServer, tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    write_policy(policies, "btc.yaml", POLICY)
    write_accounts(tmp_path)
    # Every request of alice's account is refused for a while: her sweep waits.
    bpx.state.faults.add(
        Fault(path="*", kind="429", times=2, retry_after=RETRY_AFTER, account=ALICE)
    )
    sends = SendLog()
    async with wiring.open_writer(bpx_settings(bpx, tmp_path, policies), observer=sends) as svc:
        result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    for account in (ALICE, BOB, CAROL):
        assert clone(bpx, account)["status"] == "running"

    requests = bpx.state.requests
    first_429 = next(r for r in requests if r.account == ALICE and r.status == 429)
    alice_read = next(
        r
        for r in requests
        if (r.account, r.method, r.path, r.status) == (ALICE, "GET", "/bots", 200)
    )
    # The others were cloned and started while alice's account was still blocked.
    for account in (BOB, CAROL):
        done = [r for r in requests if r.account == account and r.path.endswith("/start")]
        assert done and done[0].ts < alice_read.ts, f"{account} waited for alice's account"
    # Nothing was sent with alice's key inside a Retry-After window (on the client's clock:
    # tests/sends.py), and her read arrived after one.
    assert set(sends.block_limiters) == {ALICE}
    check_retry_after(sends)
    assert alice_read.ts >= first_429.ts + RETRY_AFTER


async def test_each_account_is_paced_at_its_plan_never_above_the_ceiling(bpx: BpxServer) -> None:
    keys = {name: Secret(key) for name, key in KEYS.items()}
    bpx.state.accounts["carol"].limit = 7  # a plan of its own
    async with BotPrimeXClient(bpx.url, Secret(MASTER_KEY), keys, rate_limit_per_minute=250) as c:
        async for _ in c.sweep():
            pass
        limits = {name: acc.limiter.limit for name, acc in c.followers.items()}
        assert c.master.limiter.limit == 250  # pro: 300, capped by the ceiling
    assert limits == {"alice": 100, "bob": 250, "carol": 7, "dave": 250}


async def test_a_429_blocks_only_its_own_accounts_limiter(bpx: BpxServer) -> None:
    keys = {name: Secret(key) for name, key in KEYS.items()}
    bpx.state.faults.add(Fault(path="/bots", kind="429", times=1, retry_after=30, account=BOB))
    async with BotPrimeXClient(bpx.url, Secret(MASTER_KEY), keys, max_attempts=1) as c:
        parts = {next(iter(p.users or ())): p async for p in c.sweep()}
        assert parts[BOB].error and "429" in parts[BOB].error
        assert [n for n, p in parts.items() if p.error] == [BOB]
        blocked = {n: a.limiter.blocked_until > 0 for n, a in c.followers.items()}
    assert blocked == {"alice": False, "bob": True, "carol": False, "dave": False}
