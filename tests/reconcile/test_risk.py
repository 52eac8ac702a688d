"""Risk guards end to end in one process: the real simulator (a bot's ROI pinned through its
state), the real client, SQLite store and policy loader. The daemon-restart and ``resume``
scenarios with real subprocesses are in tests/daemon/test_risk_daemon.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.store import queries
from tests.reconcile.conftest import F1, F2, GRID, write_policy
from tests.reliability.support import run_cli, subprocess_env


def policy(risk: str, *, f2: bool = True) -> str:
    """A grid policy with ``risk`` (YAML flow mapping) in F1's entry; F2 unguarded."""
    text = f"master: {GRID}\nfollowers:\n  - user: {F1}\n    risk: {risk}\n"
    return text + (f"  - user: {F2}\n" if f2 else "")


def clone_of(sim: SimServer, user: str) -> dict[str, Any]:
    found = [b for b in sim.state.bots_of(user) if b["botId"] != GRID]
    assert len(found) == 1, found
    return found[0]


async def events(svc: wiring.Service, action: str) -> list[dict[str, Any]]:
    return await queries.audit(svc.store, action=action)


def stops_sent(sim: SimServer, bot: str) -> int:
    return sum(
        1
        for r in sim.state.requests
        if r.path == "/bots/stop" and r.body and r.body.get("botId") == bot
    )


async def test_min_roi_stops_once_and_holds_while_the_master_runs(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -20}"))
    assert (await svc.reconciler.run_pass()).converged
    bot = clone_of(sim, F1)["botId"]
    assert clone_of(sim, F1)["status"] == "running"
    sim.state.set_roi(bot, -25.0)

    result = await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    assert clone_of(sim, F2)["status"] == "running"  # unguarded follower untouched
    stop = [a.to_json() for a in result.plan.actions if a.follower == F1]
    assert [a["action"] for a in stop] == ["stop"]
    held = result.to_json()["held"]
    assert held == [
        {
            "reason": "risk_stop",
            "master": GRID,
            "follower": F1,
            "bot": bot,
            "changes": {"min_roi_pct": [-25, -20]},
        }
    ]
    assert result.converged  # a risk-stopped clone counts as in sync

    for _ in range(3):  # the master runs on; the clone stays stopped, audited once
        again = await svc.reconciler.run_pass()
        assert again.plan.actions == ()
        assert [h["reason"] for h in again.to_json()["held"]] == ["risk_stop"]
        assert again.converged
    assert clone_of(sim, F1)["status"] == "stopped"
    assert sim.state.bot(GRID)["status"] == "running"
    assert stops_sent(sim, bot) == 1
    audited = await events(svc, "risk_stop")
    assert len(audited) == 1
    assert audited[0]["changes"] == {"min_roi_pct": [-25, -20]}
    assert audited[0]["bot"] == bot and audited[0]["follower"] == F1
    assert "resume" in audited[0]["detail"]
    stop_events = [e for e in await events(svc, "stop") if e["bot"] == bot]
    assert len(stop_events) == 1 and "min_roi_pct" in stop_events[0]["detail"]

    status = await queries.status(svc.store)
    (grid,) = status["masters"]
    assert grid["risk_stopped"] == 1
    assert grid["in_sync"] == grid["clones"] == 2
    (why,) = status["risk_stops"]
    assert (why["follower"], why["rule"], why["value"], why["threshold"]) == (
        F1,
        "min_roi_pct",
        -25,
        -20,
    )


async def test_drawdown_from_the_peak_since_the_clone_started(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{max_drawdown_pct: 5}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    for roi in (2.0, 10.0, 6.0):  # peak 10; 4 points below it is within 5
        sim.state.set_roi(bot, roi)
        await svc.reconciler.run_pass()
        assert clone_of(sim, F1)["status"] == "running", roi
    sim.state.set_roi(bot, 4.0)  # 6 points below the peak of 10
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    (audited,) = await events(svc, "risk_stop")
    assert audited["changes"] == {"max_drawdown_pct": [6, 5]}
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    assert len(await events(svc, "risk_stop")) == 1


async def test_notify_only_audits_the_breach_once_and_never_stops(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -20, on_breach: notify}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    sim.state.set_roi(bot, -30.0)
    for _ in range(3):
        result = await svc.reconciler.run_pass()
        assert result.plan.actions == () and result.to_json()["held"] == []
    assert clone_of(sim, F1)["status"] == "running"
    assert stops_sent(sim, bot) == 0
    (breach,) = await events(svc, "risk_breach")
    assert breach["changes"] == {"min_roi_pct": [-30, -20]}
    assert await events(svc, "risk_stop") == []
    assert (await queries.status(svc.store))["masters"][0]["risk_stopped"] == 0
    # the breach ends, then comes back: announced again
    sim.state.set_roi(bot, -5.0)
    await svc.reconciler.run_pass()
    sim.state.set_roi(bot, -21.0)
    await svc.reconciler.run_pass()
    assert [e["changes"] for e in await events(svc, "risk_breach")] == [
        {"min_roi_pct": [-30, -20]},
        {"min_roi_pct": [-21, -20]},
    ]


async def test_tracking_gap_against_the_masters_gain_since_the_clone_started(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    # The master has earned 40% before the clone exists: that is no gap.
    sim.state.set_roi(GRID, 40.0)
    write_policy(policy_dir, "grid.yaml", policy("{max_tracking_gap_pct: 10}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    sim.state.set_roi(bot, 0.0)
    sim.state.set_roi(GRID, 48.0)  # master +8 since the clone started, clone +0: gap 8
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "running"
    assert await events(svc, "risk_stop") == []
    sim.state.set_roi(GRID, 52.5)  # master +12.5, clone +0: gap 12.5
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    (audited,) = await events(svc, "risk_stop")
    assert audited["changes"] == {"max_tracking_gap_pct": [12.5, 10]}


async def test_changing_the_followers_risk_values_lifts_the_hold(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -20}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    sim.state.set_roi(bot, -25.0)
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -30}"))
    result = await svc.reconciler.run_pass()
    assert [a.kind.value for a in result.plan.actions] == ["start"]
    assert clone_of(sim, F1)["status"] == "running"
    (lifted,) = await events(svc, "risk_resume")
    assert lifted["changes"] == {"min_roi_pct": [-25, -20]}
    assert "risk values changed" in lifted["detail"]
    # the same defaults moved into the follower's entry are no change of its values
    text = (
        f"master: {GRID}\ndefaults:\n  risk: {{min_roi_pct: -30}}\n"
        f"followers:\n  - user: {F1}\n  - user: {F2}\n"
    )
    write_policy(policy_dir, "grid.yaml", text)
    sim.state.set_roi(bot, -31.0)
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"
    assert clone_of(sim, F2)["status"] == "running"  # the defaults guard F2 too (ROI above)
    assert len(await events(svc, "risk_stop")) == 2


async def test_plan_shows_the_hold_and_writes_nothing(
    sim: SimServer, svc: wiring.Service, policy_dir: Path
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -20}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    sim.state.set_roi(bot, -25.0)
    plan, _ = await svc.reconciler.plan()  # read-only: nothing stored, nothing stopped
    assert [h.action for h in plan.held] == ["risk_stop"]
    assert [a.kind.value for a in plan.actions] == ["stop"]
    assert not any(s.stopped for s in await svc.store.risk_states())
    assert clone_of(sim, F1)["status"] == "running"
    assert await events(svc, "risk_stop") == []


class ResumeBeforeSave:
    """The real store, with a person's ``copytrader resume`` (a real subprocess on the same
    database) run once just before the pass stores its risk states: after the pass read
    them, before it writes."""

    def __init__(self, store: Any, env: dict[str, str]) -> None:
        self._store = store
        self._env = env
        self.resumed: list[tuple[int, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_risk(self, *args: Any, **kwargs: Any) -> Any:
        if not self.resumed:
            code, _, err = await run_cli("resume", GRID, F1, env=self._env)
            self.resumed.append((code, err))
        return await self._store.save_risk(*args, **kwargs)


async def test_a_pass_never_undoes_a_resume_made_after_it_read(
    sim: SimServer, svc: wiring.Service, policy_dir: Path, settings: Settings
) -> None:
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -20}"))
    await svc.reconciler.run_pass()
    bot = clone_of(sim, F1)["botId"]
    sim.state.set_roi(bot, -25.0)
    await svc.reconciler.run_pass()
    assert clone_of(sim, F1)["status"] == "stopped"

    # The follower's risk values change (the pass would lift the hold itself and start the
    # clone), and a person resumes it by hand while that pass is under way.
    write_policy(policy_dir, "grid.yaml", policy("{min_roi_pct: -30}"))
    env = subprocess_env(COPYTRADER_DATABASE_URL=settings.database_url,
                         COPYTRADER_POLICY_DIR=str(policy_dir))
    interleaved = ResumeBeforeSave(svc.store, env)
    svc.reconciler.store = interleaved
    result = await svc.reconciler.run_pass()
    svc.reconciler.store = svc.store
    assert [code for code, _ in interleaved.resumed] == [0], interleaved.resumed

    # The pass's plan was made from the hold the person lifted: none of it is written or sent.
    (start,) = [a for a in result.to_json()["actions"] if a["follower"] == F1]
    assert (start["action"], start["outcome"]) == ("start", "failed")
    assert "risk state changed" in start["error"]
    assert not result.converged
    assert clone_of(sim, F1)["status"] == "stopped"
    (lifted,) = await events(svc, "risk_resume")  # the person's only, not the pass's too
    assert "resumed by a person" in lifted["detail"]
    assert await svc.store.risk_states() == []

    again = await svc.reconciler.run_pass()  # the next pass plans from the new state
    assert again.converged
    assert clone_of(sim, F1)["status"] == "running"
    assert len(await events(svc, "risk_resume")) == 1
    assert [s.follower for s in await svc.store.risk_states()] == [F1]  # measured from the start
