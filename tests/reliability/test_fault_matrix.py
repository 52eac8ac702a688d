"""Every write path under every fault: later passes converge, nothing is duplicated or lost.

Each case sets the world up so that the faulted write really happens (a master edit for
edit, a stopped master for stop, a removed follower with ``on_follower_removed: delete`` for
delete), injects the fault, then runs passes until one converges. Afterwards: at most three
passes were needed, each follower has exactly one clone at its desired settings, every
write the simulator received is in the audit trail with an honest outcome (one that took
effect is never ``failed``; one audited ``ok`` took effect), and no request was sent inside a
Retry-After window (on the client's clock: see tests/sends.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from copytrader.reconcile import wiring
from copytrader.reconcile.service import PassResult
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from copytrader.store import queries
from tests.reliability.conftest import F1, F2, F3, GRID, GRID_POLICY, MASTERS, SettingsFactory
from tests.reliability.support import (
    assert_one_clone_each,
    check_audit_covers_writes,
    clones_of,
    misrecorded_writes,
    write_events,
    write_requests,
)
from tests.sends import SendLog, check_retry_after
from tests.world import write_policy

PATHS = ("clone", "edit", "start", "stop", "delete")
FAULTS = ("429", "500", "timeout", "reset", "lost", "reject", "malformed", "missing_fields")
TIMEOUT_DELAY = 2.0
MAX_PASSES = 3
FOLLOWERS = (F1, F2, F3)


def _fault(kind: str, path: str) -> Fault:
    if kind == "timeout":
        return Fault(path=path, kind="timeout", times=2, delay=TIMEOUT_DELAY)
    return Fault(path=path, kind=kind, times=2, retry_after=1.0)


async def _setup(
    path: str, sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> tuple[str, ...]:
    """Bring the world to the point where the next pass sends ``path`` writes.

    Returns the followers that must end with exactly one clone.
    """
    if path in ("clone", "start"):
        return FOLLOWERS  # the first pass clones, then starts
    first = await svc.reconciler.run_pass()
    assert first.converged, first.to_json()
    if path == "edit":
        sim.state.edit_out_of_band(GRID, {"stopExit": True, "stopType": "Below value"})
    elif path == "stop":
        sim.state.set_status(GRID, "stopped")
    elif path == "delete":
        text = GRID_POLICY.replace("on_follower_removed: stop", "on_follower_removed: delete")
        write_policy(policy_dir, "grid.yaml", text.replace(f"  - user: {F2}\n", ""))
        return (F1, F3)
    return FOLLOWERS


async def _converge(svc: wiring.Service, limit: int, pause: float = 0.0) -> list[PassResult]:
    """Passes until one converges; ``pause`` between them stands for the daemon's interval."""
    results: list[PassResult] = []
    for _ in range(limit + 1):
        result = await svc.reconciler.run_pass()
        results.append(result)
        if result.converged:
            break
        await asyncio.sleep(pause)
    return results


def _expected(user: str, path: str) -> dict[str, object]:
    """Settings each clone must have after convergence (F1 has its own stopValue)."""
    want: dict[str, object] = {"stopValue": 4200 if user == F1 else 3500}
    if path == "edit":
        want.update(stopExit=True, stopType="Below value")
    return want


CASES = [(path, kind) for path in PATHS for kind in FAULTS]


@pytest.mark.parametrize(("path", "kind"), CASES)
async def test_write_fault_converges_without_duplicates(
    path: str, kind: str, sim: SimServer, make_settings: SettingsFactory, policy_dir: Path
) -> None:
    settings: Settings = make_settings(timeout_seconds=1.0 if kind == "timeout" else 5.0)
    sends = SendLog()
    async with wiring.open_writer(settings, observer=sends) as svc:
        followers = await _setup(path, sim, svc, policy_dir)
        sim.state.faults.add(_fault(kind, f"/bots/{path}"))
        # After a timeout the platform may still be doing the write: give it the time a
        # daemon interval would (a timed-out clone is not requested again meanwhile).
        results = await _converge(svc, MAX_PASSES, pause=1.0 if kind == "timeout" else 0.0)
        assert results[-1].converged, (
            f"not converged after {len(results)} passes: {results[-1].to_json()}"
        )
        assert len(results) <= MAX_PASSES
        if kind == "timeout":
            # Let the slow writes the client gave up on land, then look again.
            await asyncio.sleep(TIMEOUT_DELAY + 0.3)
            again = await svc.reconciler.run_pass()
            assert again.converged, again.to_json()
        faulted = [r for r in sim.state.requests if r.fault == kind]
        assert faulted, f"the {kind} fault on /bots/{path} never fired"
        sent_before = len(write_requests(sim.state))
        idle = await svc.reconciler.run_pass()
        assert idle.plan.actions == (), idle.to_json()
        assert len(write_requests(sim.state)) == sent_before, "a converged pass sent a write"

        assert_one_clone_each(sim.state, followers, MASTERS)
        want_status = "stopped" if path == "stop" else "running"
        for user in followers:
            clone = clones_of(sim.state, user, MASTERS)[0]
            want = _expected(user, path)
            assert {k: clone["settings"][k] for k in want} == want, (user, clone["settings"])
            assert clone["status"] == want_status
        if path == "delete":
            assert clones_of(sim.state, F2, MASTERS) == []
        events = await queries.audit(svc.store)
        check_audit_covers_writes(write_requests(sim.state), events)
        wrong = misrecorded_writes(write_requests(sim.state), await write_events(svc.store))
        assert not wrong, "\n".join(wrong)
        check_retry_after(sends)
        if kind == "429":
            assert sends.blocks, "the 429 never reached the client"
