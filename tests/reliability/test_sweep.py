"""A sweep of /bots/list that fails part-way through its pages never leads to a write.

The platform's default page is 10,000 bots, so the world gets 10,050 filler bots of an
unrelated user: the clones then sit on the second page, which is the one that fails.
"""

from __future__ import annotations

from pathlib import Path

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from copytrader.store import queries
from tests.reliability.conftest import F1, F2, F3, GRID_POLICY, MASTERS, SettingsFactory
from tests.reliability.support import (
    assert_one_clone_each,
    check_audit_covers_writes,
    clones_of,
    write_requests,
)
from tests.world import write_policy

FILLER = 10_050


def _fill(sim: SimServer) -> None:
    user = sim.state.create_user("BINANCE")
    for _ in range(FILLER):
        sim.state.create_bot(
            user,
            "spot_dollar_cost_averaging",
            {"symbol": "BINANCE_BTC_USDT_", "investmentAmount": 10},
            status="stopped",
        )


async def test_sweep_failing_on_a_later_page_writes_nothing(
    sim: SimServer, make_settings: SettingsFactory, policy_dir: Path
) -> None:
    _fill(sim)
    async with wiring.open_writer(make_settings()) as svc:
        assert (await svc.reconciler.run_pass()).converged
        lists = [r for r in sim.state.requests if r.path == "/bots/list"]
        assert len(lists) == 2, "the sweep should span two pages"
        # Work a truncated sweep could be fooled into: a removed follower to delete, a clone
        # gone (on page 2: it would look missing) and a master edit.
        text = GRID_POLICY.replace("on_follower_removed: stop", "on_follower_removed: delete")
        write_policy(policy_dir, "grid.yaml", text.replace(f"  - user: {F2}\n", ""))
        sim.state.delete_out_of_band(clones_of(sim.state, F1, MASTERS)[0]["botId"])
        sim.state.faults.add(Fault(path="/bots/list", kind="page_fail", times=-1, after=1))
        before = len(write_requests(sim.state))
        result = await svc.reconciler.run_pass()
        assert result.state == "aborted", result.to_json()
        assert result.plan.actions == ()
        assert len(write_requests(sim.state)) == before, "a write was sent after a failed sweep"
        assert len(clones_of(sim.state, F2, MASTERS)) == 1, "deleted on a failed sweep"
        assert clones_of(sim.state, F1, MASTERS) == []
        assert await queries.audit(svc.store, action="pass_aborted")

        sim.state.faults.clear()
        assert (await svc.reconciler.run_pass()).converged
        assert clones_of(sim.state, F2, MASTERS) == []
        assert_one_clone_each(sim.state, (F1, F3), MASTERS)
        check_audit_covers_writes(write_requests(sim.state), await queries.audit(svc.store))


async def test_transient_page_failure_is_retried_within_the_pass(
    sim: SimServer, make_settings: SettingsFactory
) -> None:
    _fill(sim)
    sim.state.faults.add(Fault(path="/bots/list", kind="page_fail", times=2, after=1))
    async with wiring.open_writer(make_settings()) as svc:
        result = await svc.reconciler.run_pass()
        assert result.converged, result.to_json()
        assert [r.fault for r in sim.state.requests if r.path == "/bots/list"] == [
            None,
            "page_fail",
            "page_fail",
            None,
        ]
        assert_one_clone_each(sim.state, (F1, F2, F3), MASTERS)
        again = await svc.reconciler.run_pass()
        assert again.plan.actions == ()
