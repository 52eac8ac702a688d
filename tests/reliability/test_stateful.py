"""Property: from any mix of policy edits, master edits, tampering and faults, two quiet passes
converge to the model, and the pass after them writes nothing.

A hypothesis ``RuleBasedStateMachine`` drives one simulator and one SQLite store per
example (async calls run on the machine's own ``asyncio.Runner``). The model is the policy
the machine wrote; ``settle`` clears the faults and checks that at most two passes bring
every listed follower to exactly one clone at its desired settings and status.
``COPYTRADER_STATEFUL_EXAMPLES`` / ``COPYTRADER_STATEFUL_STEPS`` set the size (CI: modest).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault, SimState
from tests.reliability.conftest import GRID, KEY, MASTERS
from tests.reliability.support import clones_of, env_int, write_requests

USERS = 6
FAULT_KINDS = ("429", "500", "reset", "lost", "reject", "malformed", "missing_fields")
WRITE_PATHS = ("/bots/clone", "/bots/edit", "/bots/start", "/bots/stop", "/bots/delete")
SCALES = (None, 0.1, 0.5, 2.0)


@dataclass(frozen=True)
class Follower:
    stop_value: int | None = None
    scale: float | None = None
    paused: bool = False


class Convergence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.folder = Path(tempfile.mkdtemp(prefix="ct-stateful-"))
        (self.folder / "policies").mkdir()
        self.state = SimState(api_key=KEY, seed=1)
        seed_demo(self.state)
        self.users = [self.state.create_user("BITMEXSPOT") for _ in range(USERS)]
        self.server = SimServer(self.state)
        self.stack = AsyncExitStack()
        self.listed: dict[str, Follower] = {}
        self.removed_mode = "stop"
        self.ever_listed: set[str] = set()
        self.runner.run(self.server.start())
        config = Settings(
            platform=PlatformSettings(
                api_url=self.server.url,
                api_key=Secret(KEY),
                rate_limit_per_minute=100_000,
                concurrency=4,
                timeout_seconds=5.0,
            ),
            database_url=f"sqlite:///{self.folder / 'ct.db'}",
            policy_dir=self.folder / "policies",
        )
        self.svc: wiring.Service = self.runner.run(
            self.stack.enter_async_context(wiring.open_writer(config))
        )

    def teardown(self) -> None:
        try:
            self.runner.run(self.stack.aclose())
            self.runner.run(self.server.stop())
        finally:
            self.runner.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- the model ------------------------------------------------------------------------
    def _write_policy(self) -> None:
        lines = [f"master: {GRID}", "followers:"]
        for user, f in self.listed.items():
            lines.append(f"  - user: {user}")
            if f.stop_value is not None:
                lines.append(f"    overrides: {{stopValue: {f.stop_value}}}")
            if f.scale is not None:
                lines.append(f"    scale: {{investmentAmount: {f.scale}}}")
            if f.paused:
                lines.append("    paused: true")
        if not self.listed:
            lines[-1] = "followers: []"
        lines += [
            f"on_follower_removed: {self.removed_mode}",
            "on_master_stopped: stop",
            "on_immutable_change: recreate",
            "",
        ]
        (self.folder / "policies" / "grid.yaml").write_text("\n".join(lines), encoding="utf-8")

    def _clones(self, user: str) -> list[dict[str, Any]]:
        return clones_of(self.state, user, MASTERS)

    def _wrong(self) -> list[str]:
        """How the platform differs from the model (empty: converged)."""
        master = self.state.bot(GRID)
        ms = master["settings"]
        wrong = []
        for user, f in self.listed.items():
            found = self._clones(user)
            if len(found) != 1:
                wrong.append(f"{user}: {len(found)} clones")
                continue
            clone = found[0]
            s = clone["settings"]
            want = {
                "stopValue": f.stop_value if f.stop_value is not None else ms["stopValue"],
                "investmentAmount": ms["investmentAmount"] * (f.scale or 1.0),
                "stopExit": ms["stopExit"],
                "stopType": ms["stopType"],
            }
            got = {k: s[k] for k in want}
            if got != want:
                wrong.append(f"{user}: {got} != {want}")
            status = "stopped" if f.paused or master["status"] != "running" else "running"
            if clone["status"] != status:
                wrong.append(f"{user}: {clone['status']} != {status}")
        for user in self.ever_listed - set(self.listed):
            for clone in self._clones(user):
                if self.removed_mode == "stop" and clone["status"] != "stopped":
                    wrong.append(f"removed {user}: still {clone['status']}")
        return wrong

    # -- rules ------------------------------------------------------------------------------
    @initialize(users=st.lists(st.integers(0, USERS - 1), min_size=1, max_size=3, unique=True))
    def start(self, users: list[int]) -> None:
        for i in users:
            self.listed[self.users[i]] = Follower()
            self.ever_listed.add(self.users[i])
        self._write_policy()

    @rule(
        i=st.integers(0, USERS - 1),
        stop_value=st.none() | st.integers(1, 5000),
        scale=st.sampled_from(SCALES),
        paused=st.booleans(),
    )
    def add_or_change_follower(
        self, i: int, stop_value: int | None, scale: float | None, paused: bool
    ) -> None:
        self.listed[self.users[i]] = Follower(stop_value, scale, paused)
        self.ever_listed.add(self.users[i])
        self._write_policy()

    @rule(pick=st.integers(0, 50))
    def remove_follower(self, pick: int) -> None:
        if len(self.listed) > 1:
            del self.listed[sorted(self.listed)[pick % len(self.listed)]]
            self._write_policy()

    @rule(pick=st.integers(0, 50), paused=st.booleans())
    def pause(self, pick: int, paused: bool) -> None:
        if self.listed:
            user = sorted(self.listed)[pick % len(self.listed)]
            self.listed[user] = replace(self.listed[user], paused=paused)
            self._write_policy()

    @rule(mode=st.sampled_from(["stop", "delete"]))
    def removal_mode(self, mode: str) -> None:
        if mode != self.removed_mode:
            # Followers removed under "stop" keep a stopped clone; under "delete" they lose it.
            self.removed_mode = mode
            self._write_policy()

    @rule(
        stop_exit=st.booleans(),
        stop_type=st.sampled_from(["Above value", "Below value"]),
        stop_value=st.integers(1, 5000),
    )
    def master_edit(self, stop_exit: bool, stop_type: str, stop_value: int) -> None:
        self.state.edit_out_of_band(
            GRID, {"stopExit": stop_exit, "stopType": stop_type, "stopValue": stop_value}
        )

    @rule(status=st.sampled_from(["running", "stopped"]))
    def master_status(self, status: str) -> None:
        self.state.set_status(GRID, status)

    # Which clone is picked by index, not drawn from the platform's state: hypothesis needs
    # the same draws when it replays an example.
    def _clone_ids(self) -> list[str]:
        return [b["botId"] for u in sorted(self.listed) for b in self._clones(u)]

    @rule(pick=st.integers(0, 50), stop_value=st.integers(1, 5000))
    def tamper_with_clone(self, pick: int, stop_value: int) -> None:
        bots = self._clone_ids()
        if bots:
            self.state.edit_out_of_band(bots[pick % len(bots)], {"stopValue": stop_value})

    @rule(pick=st.integers(0, 50))
    def delete_a_clone(self, pick: int) -> None:
        bots = self._clone_ids()
        # One clone of several: all known clones gone at once reads as a truncated sweep,
        # which copytrader rightly refuses to act on.
        if len(bots) >= 2:
            self.state.delete_out_of_band(bots[pick % len(bots)])

    @rule(
        path=st.sampled_from(WRITE_PATHS),
        kind=st.sampled_from(FAULT_KINDS),
        times=st.integers(1, 2),
    )
    def inject_fault(self, path: str, kind: str, times: int) -> None:
        self.state.faults.add(Fault(path=path, kind=kind, times=times, retry_after=0.0))

    @rule()
    def run_pass(self) -> None:
        result = self.runner.run(self.svc.reconciler.run_pass())
        assert result.state in ("ok", "failed"), result.to_json()

    @rule()
    def settle(self) -> None:
        self.state.faults.clear()
        for _ in range(2):
            result = self.runner.run(self.svc.reconciler.run_pass())
            if result.converged:
                break
        assert result.converged, result.to_json()
        assert self._wrong() == []
        before = len(write_requests(self.state))
        idle = self.runner.run(self.svc.reconciler.run_pass())
        assert idle.plan.actions == (), idle.to_json()
        assert len(write_requests(self.state)) == before

    @invariant()
    def never_two_clones(self) -> None:
        for user in self.listed:
            assert len(self._clones(user)) <= 1, f"{user} has two clones"


Convergence.TestCase.settings = settings(
    max_examples=env_int("COPYTRADER_STATEFUL_EXAMPLES", 12),
    stateful_step_count=env_int("COPYTRADER_STATEFUL_STEPS", 15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# A failing example is shrunk by replaying it many times: allow for that.
TestConvergence = pytest.mark.timeout(600)(Convergence.TestCase)
