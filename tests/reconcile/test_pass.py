"""End to end: the reconcile pass against the real simulator, client, store and loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from copytrader.store import queries
from tests.reconcile.conftest import F1, F2, F3, F4, GRID, GRID_POLICY, write_policy
from tests.sends import SendLog, check_retry_after

BROKEN_FUTURES = """\
master: bedc8bb485514565b64a728fc0886a95
followers:
  - user: b3829396-4ad9-4034-ae7a-e8e2fb582c33
    overrides: {gridMode: Triangular}
"""
WRITE_PATHS = (
    "/bots/clone",
    "/bots/edit",
    "/bots/start",
    "/bots/stop",
    "/bots/delete",
    "/bots/create",
)


def clones(sim: SimServer, user: str) -> list[dict[str, Any]]:
    return [b for b in sim.state.bots_of(user) if b["botId"] != GRID]


def clone(sim: SimServer, user: str) -> dict[str, Any]:
    found = clones(sim, user)
    assert len(found) == 1, f"{user} has {len(found)} clones"
    return found[0]


def writes(sim: SimServer) -> int:
    return sum(1 for r in sim.state.requests if r.path in WRITE_PATHS)


async def test_first_pass_clones_with_overrides_scale_limits_and_pause(
    sim: SimServer, svc: wiring.Service
) -> None:
    result = await svc.reconciler.run_pass()
    assert result.converged, result.to_json()
    c1, c2, c3 = clone(sim, F1), clone(sim, F2), clone(sim, F3)
    assert c1["settings"]["investmentAmount"] == 500  # 1000 x 0.5
    assert c1["settings"]["stopValue"] == 4200  # own override
    assert c1["settings"]["stopCondition"] == "Price"  # defaults override
    assert c2["settings"]["investmentAmount"] == 800  # clamped by limits
    assert c2["settings"]["stopValue"] == 3500
    assert (c1["status"], c2["status"], c3["status"]) == ("running", "running", "stopped")
    assert all(c["masterBotId"] == "" for c in (c1, c2, c3))  # followUpdates: false
    assert clones(sim, F4) == []


async def test_second_pass_sends_no_write(sim: SimServer, svc: wiring.Service) -> None:
    await svc.reconciler.run_pass()
    before = writes(sim)
    result = await svc.reconciler.run_pass()
    assert result.plan.actions == ()
    assert writes(sim) == before
    assert result.converged


async def test_master_edit_reaches_clones_except_pinned_key(
    sim: SimServer, svc: wiring.Service
) -> None:
    await svc.reconciler.run_pass()
    sim.state.edit_out_of_band(GRID, {"stopValue": 3900, "stopExit": True})
    result = await svc.reconciler.run_pass()
    assert result.converged
    # stopValue is pinned for everyone (defaults or own override); stopExit is not
    assert clone(sim, F1)["settings"]["stopValue"] == 4200
    assert clone(sim, F2)["settings"]["stopValue"] == 3500
    assert all(clone(sim, u)["settings"]["stopExit"] is True for u in (F1, F2, F3))
    edits = [r for r in sim.state.requests if r.path == "/bots/edit"]
    assert len(edits) == 3
    assert all(r.body is not None and set(r.body["settings"]) == {"stopExit"} for r in edits)


async def test_master_stopped_stops_followers_and_restart_resumes(
    sim: SimServer, svc: wiring.Service
) -> None:
    await svc.reconciler.run_pass()
    sim.state.set_status(GRID, "stopped")
    assert (await svc.reconciler.run_pass()).converged
    assert {clone(sim, u)["status"] for u in (F1, F2, F3)} == {"stopped"}
    sim.state.set_status(GRID, "running")
    assert (await svc.reconciler.run_pass()).converged
    assert [clone(sim, u)["status"] for u in (F1, F2, F3)] == ["running", "running", "stopped"]


async def test_follower_removed_stop_then_delete(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    await svc.reconciler.run_pass()
    without_f2 = GRID_POLICY.replace(f"  - user: {F2}\n", "")
    write_policy(policy_dir, "grid.yaml", without_f2)
    assert (await svc.reconciler.run_pass()).converged
    assert clone(sim, F2)["status"] == "stopped"
    write_policy(
        policy_dir,
        "grid.yaml",
        without_f2.replace("on_follower_removed: stop", "on_follower_removed: delete"),
    )
    assert (await svc.reconciler.run_pass()).converged
    assert clones(sim, F2) == []
    assert (await svc.reconciler.run_pass()).plan.actions == ()


async def test_clone_edited_behind_our_back_is_restored_and_audited(
    sim: SimServer, svc: wiring.Service
) -> None:
    await svc.reconciler.run_pass()
    bot = clone(sim, F2)["botId"]
    sim.state.edit_out_of_band(bot, {"stopValue": 1})
    assert (await svc.reconciler.run_pass()).converged
    assert clone(sim, F2)["settings"]["stopValue"] == 3500
    events = await queries.audit(svc.store, action="drift")
    assert [(e["follower"], e["changes"]) for e in events] == [(F2, {"stopValue": [3500, 1]})]
    # The same edit again (after the repair cleared the condition): a new drift, audited.
    sim.state.edit_out_of_band(bot, {"stopValue": 1})
    assert (await svc.reconciler.run_pass()).converged
    assert clone(sim, F2)["settings"]["stopValue"] == 3500
    assert len(await queries.audit(svc.store, action="drift")) == 2


async def test_immutable_change_recreates(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    await svc.reconciler.run_pass()
    old = clone(sim, F2)["botId"]
    write_policy(
        policy_dir,
        "grid.yaml",
        GRID_POLICY.replace(
            f"  - user: {F2}\n", f"  - user: {F2}\n    scale: {{investmentAmount: 0.2}}\n"
        ),
    )
    assert (await svc.reconciler.run_pass()).converged
    new = clone(sim, F2)
    assert new["botId"] != old
    assert new["settings"]["investmentAmount"] == 200
    assert new["status"] == "running"


async def test_immutable_change_flagged_writes_nothing(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    await svc.reconciler.run_pass()
    old = clone(sim, F2)
    text = GRID_POLICY.replace("on_immutable_change: recreate", "on_immutable_change: flag")
    write_policy(
        policy_dir,
        "grid.yaml",
        text.replace(
            f"  - user: {F2}\n", f"  - user: {F2}\n    scale: {{investmentAmount: 0.2}}\n"
        ),
    )
    before = writes(sim)
    result = await svc.reconciler.run_pass()
    assert writes(sim) == before
    assert clone(sim, F2) == old
    assert [e["follower"] for e in await queries.audit(svc.store, action="immutable_flagged")] == [
        F2
    ]
    status = await queries.status(svc.store)
    grid = next(m for m in status["masters"] if m["master"] == GRID)
    assert grid["in_sync"] == 2
    assert result.state == "ok"


async def test_broken_policy_next_to_good_one(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(
        policy_dir,
        "futures.yaml",
        BROKEN_FUTURES,
    )
    result = await svc.reconciler.run_pass()
    assert not result.converged
    assert [str(p).split(":", 1)[0].endswith("futures.yaml") for p in result.problems] == [True]
    assert ":4:17:" in str(result.problems[0]) and "Triangular" in str(result.problems[0])
    assert len(clones(sim, F1)) == 1
    assert sim.state.bots_of("b3829396-4ad9-4034-ae7a-e8e2fb582c33") == []
    events = await queries.audit(svc.store, action="policy_invalid")
    assert len(events) == 1 and events[0]["error"] and "futures.yaml" in events[0]["error"]


async def test_lost_clone_response_is_adopted_not_duplicated(
    sim: SimServer, svc: wiring.Service
) -> None:
    sim.state.faults.add(Fault(path="/bots/clone", kind="lost", times=2))
    first = await svc.reconciler.run_pass()
    assert not first.converged
    second = await svc.reconciler.run_pass()
    assert second.converged, second.to_json()
    assert {a.kind.value for a in second.plan.actions} >= {"adopt"}
    for user in (F1, F2, F3):
        assert len(clones(sim, user)) == 1
    assert len([r for r in sim.state.requests if r.path == "/bots/clone"]) == 3
    adopted = await queries.audit(svc.store, action="adopt")
    assert len(adopted) == 2


async def test_rate_limit_and_5xx_storm_converges_without_early_requests(
    sim: SimServer, settings: Settings
) -> None:
    sim.state.faults.add(Fault(path="*", kind="429", times=3, retry_after=1))
    sim.state.faults.add(Fault(path="/bots/start", kind="500", times=2))
    sends = SendLog()
    async with wiring.open_writer(settings, observer=sends) as svc:
        for _ in range(4):
            result = await svc.reconciler.run_pass()
            if result.converged:
                break
    assert result.converged
    for user in (F1, F2, F3):
        assert len(clones(sim, user)) == 1
    # no request was sent inside a Retry-After window (on the client's clock)
    assert len(sends.blocks) >= 1
    check_retry_after(sends)


async def test_failed_sweep_writes_nothing(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    await svc.reconciler.run_pass()
    write_policy(
        policy_dir,
        "grid.yaml",
        GRID_POLICY.replace("on_follower_removed: stop", "on_follower_removed: delete").replace(
            f"  - user: {F2}\n", ""
        ),
    )
    sim.state.faults.add(Fault(path="/bots/list", kind="500", times=-1))
    before = writes(sim)
    result = await svc.reconciler.run_pass()
    assert result.state == "aborted"
    assert writes(sim) == before
    assert len(clones(sim, F2)) == 1
    sim.state.faults.clear()
    assert (await svc.reconciler.run_pass()).converged
    assert clones(sim, F2) == []


async def test_standing_conditions_are_audited_once_for_the_life_of_the_database(
    sim: SimServer, svc: wiring.Service, settings: Settings, policy_dir: Path
) -> None:
    await svc.reconciler.run_pass()
    text = GRID_POLICY.replace("on_immutable_change: recreate", "on_immutable_change: flag")
    scaled = f"  - user: {F2}\n    scale: {{investmentAmount: 0.2}}\n"
    write_policy(policy_dir, "grid.yaml", text.replace(f"  - user: {F2}\n", scaled))
    for _ in range(3):
        result = await svc.reconciler.run_pass()
    [held] = result.to_json()["held"]
    assert held["reason"] == "immutable_flagged" and held["follower"] == F2
    assert held["changes"] == {"investmentAmount": [800, 200]}
    assert len(await queries.audit(svc.store, action="immutable_flagged")) == 1
    # another process on the same database: the condition is on record, not audited again
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
    assert len(await queries.audit(svc.store, action="immutable_flagged")) == 1
    # a different flagged change is a new condition
    write_policy(
        policy_dir, "grid.yaml", text.replace(f"  - user: {F2}\n", scaled.replace("0.2", "0.3"))
    )
    await svc.reconciler.run_pass()
    assert len(await queries.audit(svc.store, action="immutable_flagged")) == 2
    # cleared (the scale is gone), then back: audited again, by a new process
    write_policy(policy_dir, "grid.yaml", text)
    await svc.reconciler.run_pass()
    write_policy(policy_dir, "grid.yaml", text.replace(f"  - user: {F2}\n", scaled))
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
    assert len(await queries.audit(svc.store, action="immutable_flagged")) == 3


async def test_an_invalid_file_version_is_audited_once_for_the_life_of_the_database(
    sim: SimServer, svc: wiring.Service, settings: Settings, policy_dir: Path
) -> None:
    """``policy_invalid`` is a standing condition too: once per file version, however many
    passes or processes (a reconcile from cron, a restarted daemon) see it."""

    async def reported() -> list[str | None]:
        return [e["policy_sha256"] for e in await queries.audit(svc.store,
                                                                 action="policy_invalid")]

    write_policy(policy_dir, "futures.yaml", BROKEN_FUTURES)
    for _ in range(2):
        await svc.reconciler.run_pass()
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
    [first] = await reported()
    assert first is not None
    # a new version, invalid too, is a new condition
    write_policy(policy_dir, "futures.yaml", BROKEN_FUTURES.replace("Triangular", "Hexagonal"))
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
        await other.reconciler.run_pass()
    assert len(await reported()) == 2
    # fixed (seen by a pass), then broken again in the first way: audited again, by a new
    # process as by this one
    write_policy(policy_dir, "futures.yaml", BROKEN_FUTURES.replace("Triangular", "Geometric"))
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
    write_policy(policy_dir, "futures.yaml", BROKEN_FUTURES)
    async with wiring.open_service(settings) as other:
        await other.reconciler.run_pass()
    await svc.reconciler.run_pass()
    assert len(await reported()) == 3 and (await reported())[-1] == first


async def test_each_write_is_logged_once_pending_and_once_with_its_outcome(
    sim: SimServer, svc: wiring.Service
) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        await svc.reconciler.run_pass()
    audit = [(e["action"], e["follower"], e["outcome"]) for e in logs if e["event"] == "audit"]
    for action in ("clone", "start"):
        for user in (F1, F2):
            assert audit.count((action, user, "pending")) == 1, (action, user)
            assert audit.count((action, user, "ok")) == 1, (action, user)
    rows = await queries.audit(svc.store, follower=F1)
    assert [(e["action"], e["outcome"]) for e in rows] == [("clone", "ok"), ("start", "ok")]
