"""End to end on BotPrimeX: the reconcile pass against the BotPrimeX simulator over HTTP,
with the real client (one per account), store and loader. The scenarios of test_pass.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from copytrader.core.tags import clone_tag
from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.faults import Fault
from copytrader.store import queries
from tests.bpx_world import ALICE, BOB, BTC, CAROL, DAVE, clone, clones
from tests.reconcile.conftest import BPX_POLICY, write_policy
from tests.sends import SendLog, check_retry_after


def writes(sim: BpxServer, account: str | None = None) -> int:
    return len(sim.state.writes(account))


def tagged(name: str, account: str) -> str:
    return f"{name} [ct:{clone_tag(BTC, account)}]"


async def test_first_pass_creates_tagged_clones_with_overrides_scale_limits_and_pause(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    result = await bpx_svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    a, b, c = clone(bpx, ALICE), clone(bpx, BOB), clone(bpx, CAROL)
    assert (a["stake_amount"], a["stop_loss"]) == (50, -3)  # 100 x 0.5; own override
    assert (b["stake_amount"], b["stop_loss"]) == (80, -5)  # clamped; defaults override
    assert (a["status"], b["status"], c["status"]) == ("running", "running", "stopped")
    assert a["name"] == tagged("BTC DCA", ALICE) and b["name"] == tagged("BTC DCA", BOB)
    assert all(x["pair"] == "BTC/USDT" and x["exchange"] == "binance" for x in (a, b, c))
    assert clones(bpx, DAVE) == []
    # each clone is made in its follower's own account, with that account's key
    creates = [r for r in bpx.state.requests if (r.method, r.path) == ("POST", "/bots")]
    assert sorted(r.account for r in creates if r.account) == [ALICE, BOB, CAROL]
    assert {r.account for r in bpx.state.requests} == {"master", ALICE, BOB, CAROL, DAVE}


async def test_second_pass_reads_one_page_per_account_and_writes_nothing(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    before, sent = writes(bpx), len(bpx.state.requests)
    result = await bpx_svc.reconciler.run_pass()
    assert result.plan.actions == () and result.converged
    assert writes(bpx) == before
    steady = bpx.state.requests[sent:]
    assert sorted((r.method, r.path, r.account) for r in steady) == sorted(
        ("GET", "/bots", a) for a in ("master", ALICE, BOB, CAROL, DAVE)
    )
    assert result.requests == 5


async def test_master_edit_reaches_clones_except_pinned_key_and_renames_keep_the_tag(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    bpx.state.edit_out_of_band(BTC, {"stop_loss": -9, "max_open_trades": 5, "name": "BTC v2"})
    result = await bpx_svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    assert clone(bpx, ALICE)["stop_loss"] == -3  # own override
    assert clone(bpx, BOB)["stop_loss"] == -5  # defaults override
    for account in (ALICE, BOB, CAROL):
        assert clone(bpx, account)["max_open_trades"] == 5
        assert clone(bpx, account)["name"] == tagged("BTC v2", account)
    patches = [r for r in bpx.state.requests if r.method == "PATCH"]
    assert len(patches) == 3
    assert all(r.body is not None and set(r.body) == {"max_open_trades", "name"} for r in patches)
    assert (await bpx_svc.reconciler.run_pass()).plan.actions == ()


async def test_plan_is_read_only(bpx: BpxServer, bpx_config: Settings) -> None:
    async with wiring.open_service(bpx_config) as svc:
        plan, problems = await svc.reconciler.plan()
    assert problems == ()
    assert sorted((a.kind.value, a.follower) for a in plan.actions) == [
        ("clone", ALICE),
        ("clone", BOB),
        ("clone", CAROL),
        ("start", ALICE),
        ("start", BOB),
    ]
    assert all(r.method == "GET" for r in bpx.state.requests)
    assert writes(bpx) == 0


async def test_master_stopped_stops_followers_and_restart_resumes(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    bpx.state.set_status(BTC, "stopped")
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert {clone(bpx, a)["status"] for a in (ALICE, BOB, CAROL)} == {"stopped"}
    bpx.state.set_status(BTC, "running")
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert [clone(bpx, a)["status"] for a in (ALICE, BOB, CAROL)] == [
        "running",
        "running",
        "stopped",
    ]


async def test_follower_removed_stop_then_delete_then_keep(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    await bpx_svc.reconciler.run_pass()
    without_bob = BPX_POLICY.replace(f"  - user: {BOB}\n", "")
    write_policy(bpx_policies, "btc.yaml", without_bob)
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert clone(bpx, BOB)["status"] == "stopped"
    write_policy(
        bpx_policies,
        "btc.yaml",
        without_bob.replace("on_follower_removed: stop", "on_follower_removed: delete"),
    )
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert clones(bpx, BOB) == []
    # keep: alice removed, her clone left running and forgotten
    write_policy(
        bpx_policies,
        "btc.yaml",
        without_bob.replace(
            f"  - user: {ALICE}\n    overrides: {{stop_loss: -3}}\n"
            f"    scale: {{stake_amount: 0.5}}\n",
            "",
        ).replace("on_follower_removed: stop", "on_follower_removed: keep"),
    )
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert clone(bpx, ALICE)["status"] == "running"
    released = await queries.audit(bpx_svc.store, action="release", follower=ALICE)
    assert len(released) == 1
    assert (await bpx_svc.reconciler.run_pass()).plan.actions == ()


async def test_delete_of_a_running_clone_stops_it_first(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    await bpx_svc.reconciler.run_pass()
    write_policy(
        bpx_policies,
        "btc.yaml",
        BPX_POLICY.replace(f"  - user: {BOB}\n", "").replace(
            "on_follower_removed: stop", "on_follower_removed: delete"
        ),
    )
    result = await bpx_svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    assert [a.kind.value for a in result.plan.actions if a.follower == BOB] == ["stop", "delete"]
    assert clones(bpx, BOB) == []
    refused = [r for r in bpx.state.requests if r.method == "DELETE" and r.status != 204]
    assert refused == []


async def test_clone_edited_behind_our_back_is_restored_and_audited(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    bpx.state.edit_out_of_band(clone(bpx, BOB)["id"], {"stake_amount": 7})
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert clone(bpx, BOB)["stake_amount"] == 80
    events = await queries.audit(bpx_svc.store, action="drift")
    assert [(e["follower"], e["changes"]) for e in events] == [(BOB, {"stake_amount": [80, 7]})]


async def test_dry_run_change_of_a_running_clone_is_stop_edit_start(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    bpx.state.edit_out_of_band(BTC, {"dry_run": True})
    result = await bpx_svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    steps = {
        f: [a.kind.value for a in result.plan.actions if a.follower == f]
        for f in (ALICE, BOB, CAROL)
    }
    assert steps == {
        ALICE: ["stop", "edit", "start"],
        BOB: ["stop", "edit", "start"],
        CAROL: ["edit"],
    }  # carol is paused: edited where she stands
    for account, status in ((ALICE, "running"), (BOB, "running"), (CAROL, "stopped")):
        assert (clone(bpx, account)["dry_run"], clone(bpx, account)["status"]) == (True, status)
    refused = [r for r in bpx.state.requests if r.method == "PATCH" and r.status != 200]
    assert refused == []  # never sent while running (the platform refuses it: bot_running)


async def test_immutable_change_recreates(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    await bpx_svc.reconciler.run_pass()
    old = clone(bpx, BOB)["id"]
    write_policy(
        bpx_policies,
        "btc.yaml",
        BPX_POLICY.replace(
            f"  - user: {BOB}\n", f"  - user: {BOB}\n    overrides: {{strategy: grid}}\n"
        ),
    )
    result = await bpx_svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    assert [a.kind.value for a in result.plan.actions] == ["stop", "delete", "clone", "start"]
    new = clone(bpx, BOB)
    assert new["id"] != old and new["strategy"] == "grid" and new["status"] == "running"
    assert new["name"] == tagged("BTC DCA", BOB)


async def test_immutable_change_flagged_writes_nothing(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    await bpx_svc.reconciler.run_pass()
    old = clone(bpx, BOB)
    text = BPX_POLICY.replace("on_immutable_change: recreate", "on_immutable_change: flag")
    write_policy(
        bpx_policies,
        "btc.yaml",
        text.replace(f"  - user: {BOB}\n", f"  - user: {BOB}\n    overrides: {{strategy: grid}}\n"),
    )
    before = writes(bpx)
    result = await bpx_svc.reconciler.run_pass()
    assert writes(bpx) == before
    assert clone(bpx, BOB) == old
    [held] = result.to_json()["held"]
    assert (held["reason"], held["follower"], held["changes"]) == (
        "immutable_flagged",
        BOB,
        {"strategy": ["dca", "grid"]},
    )
    assert result.state == "ok"


async def test_a_master_pair_changed_on_the_platform_recreates_every_clone(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    await bpx_svc.reconciler.run_pass()
    old = {a: clone(bpx, a)["id"] for a in (ALICE, BOB, CAROL)}
    bpx.state.edit_out_of_band(BTC, {"pair": "ETH/USDT"})
    assert (await bpx_svc.reconciler.run_pass()).converged
    for account in (ALICE, BOB, CAROL):
        assert clone(bpx, account)["id"] != old[account]
        assert clone(bpx, account)["pair"] == "ETH/USDT"


async def test_broken_policy_next_to_good_one(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    write_policy(
        bpx_policies,
        "eth.yaml",
        "master: bot_8a2c4e6f1b3d5a79\nfollowers:\n  - user: dave\n    overrides: {name: Mine}\n",
    )
    result = await bpx_svc.reconciler.run_pass()
    assert not result.converged
    [problem] = result.problems
    assert str(problem).endswith(":4:17: name follows the master: it cannot be overridden")
    assert len(clones(bpx, ALICE)) == 1
    assert clones(bpx, DAVE) == []
    events = await queries.audit(bpx_svc.store, action="policy_invalid")
    assert len(events) == 1 and "eth.yaml" in (events[0]["error"] or "")


async def test_lost_create_response_is_adopted_by_its_tag_not_duplicated(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    bpx.state.faults.add(Fault(path="/bots", method="POST", kind="lost", account=ALICE))
    first = await bpx_svc.reconciler.run_pass()
    assert not first.converged
    second = await bpx_svc.reconciler.run_pass()
    assert second.converged, second.to_json()
    assert [(a.kind.value, a.follower) for a in second.plan.actions] == [
        ("adopt", ALICE),
        ("start", ALICE),
    ]
    assert len(clones(bpx, ALICE)) == 1
    creates = [
        r for r in bpx.state.requests if (r.method, r.path, r.account) == ("POST", "/bots", ALICE)
    ]
    assert len(creates) == 1
    [adopted] = await queries.audit(bpx_svc.store, action="adopt")
    assert adopted["follower"] == ALICE and adopted["bot"] == clone(bpx, ALICE)["id"]


async def test_clones_of_an_earlier_install_are_adopted_by_tag_never_held(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_config: Settings, tmp_path: Path
) -> None:
    await bpx_svc.reconciler.run_pass()
    made = {a: clone(bpx, a)["id"] for a in (ALICE, BOB, CAROL)}
    fresh = dataclasses.replace(bpx_config, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    async with wiring.open_writer(fresh) as other:
        result = await other.reconciler.run_pass()
        assert result.converged, result.to_json()
        assert result.plan.held == ()
        assert sorted((a.kind.value, a.follower, a.bot) for a in result.plan.actions) == sorted(
            ("adopt", a, made[a]) for a in (ALICE, BOB, CAROL)
        )
        assert (await other.reconciler.run_pass()).plan.actions == ()
    assert {a: clone(bpx, a)["id"] for a in (ALICE, BOB, CAROL)} == made


async def test_transient_errors_converge_without_requests_inside_retry_after(
    bpx: BpxServer, bpx_config: Settings
) -> None:
    bpx.state.faults.add(Fault(path="*", kind="429", times=2, retry_after=1, account=BOB))
    bpx.state.faults.add(Fault(path="/bots/{id}/start", kind="500", times=2))
    sends = SendLog()
    async with wiring.open_writer(bpx_config, observer=sends) as bpx_svc:
        for _ in range(4):
            result = await bpx_svc.reconciler.run_pass()
            if result.converged:
                break
    assert result.converged, result.to_json()
    for account in (ALICE, BOB, CAROL):
        assert len(clones(bpx, account)) == 1
    # Nothing of bob's account inside its Retry-After window (on the client's clock).
    assert set(sends.block_limiters) == {BOB}
    check_retry_after(sends)


async def test_an_unreadable_account_holds_back_only_its_own_followers(
    bpx: BpxServer, bpx_svc: wiring.Service
) -> None:
    bpx.state.faults.add(Fault(path="/bots", method="GET", kind="500", times=-1, account=BOB))
    result = await bpx_svc.reconciler.run_pass()
    assert not result.converged and result.state == "failed"
    assert set(result.unread) == {BOB} and "bots.list" in result.unread[BOB]
    assert result.to_json()["unread"] == [{"account": BOB, "error": result.unread[BOB]}]
    assert clones(bpx, BOB) == [] and len(clones(bpx, ALICE)) == 1
    [event] = await queries.audit(bpx_svc.store, action="account_unread")
    assert event["follower"] == BOB and event["outcome"] == "failed"
    status = await queries.status(bpx_svc.store)
    [btc] = status["masters"]
    assert (btc["followers"], btc["clones"], btc["failed"]) == (3, 2, 1)
    bpx.state.faults.clear()
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert len(clones(bpx, BOB)) == 1


async def test_a_clone_whose_profit_pct_breaks_a_risk_rule_is_stopped_and_held(
    bpx: BpxServer, bpx_svc: wiring.Service, bpx_policies: Path
) -> None:
    write_policy(
        bpx_policies,
        "btc.yaml",
        BPX_POLICY.replace("defaults:\n", "defaults:\n  risk: {min_roi_pct: -20}\n"),
    )
    await bpx_svc.reconciler.run_pass()
    bob = bpx.state.bots[clone(bpx, BOB)["id"]]
    bob.profit_usd = -0.3 * bob.stake_amount  # profit_pct -30: the clone's ROI
    result = await bpx_svc.reconciler.run_pass()
    assert [(a.kind.value, a.follower) for a in result.plan.actions] == [("stop", BOB)]
    assert clone(bpx, BOB)["status"] == "stopped" and clone(bpx, ALICE)["status"] == "running"
    [event] = await queries.audit(bpx_svc.store, action="risk_stop")
    assert event["follower"] == BOB and event["changes"] == {"min_roi_pct": [-30.0, -20]}
    assert (await bpx_svc.reconciler.run_pass()).plan.actions == ()  # held while the master runs
