"""Risk guards with real processes: ``copytrader run`` as a subprocess against the simulator,
``kill -9`` and a new daemon, ``copytrader status`` and ``copytrader resume`` as subprocesses.
A clone whose ROI falls below ``min_roi_pct`` is stopped once, audited once, and stays
stopped while its master runs, across passes and the restart, until a person resumes it."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import F1, F2, GRID, query, wait_for
from tests.reliability.support import run_cli
from tests.world import write_policy

POLICY = f"""\
master: {GRID}
followers:
  - user: {F1}
    risk: {{min_roi_pct: -20}}
  - user: {F2}
"""


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """This test's one policy file (instead of the example policies)."""
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", POLICY)
    return folder


def clone(sim: SimServer, user: str) -> dict[str, Any] | None:
    found = [b for b in sim.state.bots_of(user) if b["type"] == "spot_grid"]
    return found[-1] if found else None


def status_of(sim: SimServer, user: str) -> str | None:
    c = clone(sim, user)
    return c["status"] if c else None


def stops_sent(sim: SimServer, bot: str) -> int:
    return sum(
        1
        for r in sim.state.requests
        if r.path == "/bots/stop" and r.body and r.body.get("botId") == bot
    )


async def test_risk_stop_holds_across_passes_and_a_kill_until_resume(
    sim: SimServer, start_daemon, daemon_env: dict[str, str], policy_dir: Path
) -> None:
    db = Path(daemon_env["COPYTRADER_DATABASE_URL"].removeprefix("sqlite:///"))

    def audited(action: str) -> list[tuple[Any, ...]]:
        return query(db, "SELECT changes, bot FROM audit_events WHERE action = ?", action)

    def passes() -> int:
        return len(query(db, "SELECT run_id FROM runs WHERE state = 'ok'"))

    async def more_passes(n: int) -> None:
        start = passes()
        await wait_for(lambda: passes() >= start + n, f"{n} more passes")

    # Passes every half second: each phase below looks at two more of them (a hold that a
    # pass would lift is lifted by the first).
    d = await start_daemon(COPYTRADER_INTERVAL_SECONDS="0.5")
    await wait_for(lambda: status_of(sim, F1) == "running", "F1's clone running")
    bot = clone(sim, F1)
    assert bot is not None
    sim.state.set_roi(bot["botId"], -25.0)
    await wait_for(lambda: status_of(sim, F1) == "stopped", "the risk stop")
    await more_passes(2)
    assert status_of(sim, F1) == "stopped" and status_of(sim, F2) == "running"
    assert sim.state.bot(GRID)["status"] == "running"
    (stop,) = audited("risk_stop")
    assert json.loads(stop[0]) == {"min_roi_pct": [-25, -20]} and stop[1] == bot["botId"]

    code, out, err = await run_cli("status", "--json", env=daemon_env)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["masters"][0]["risk_stopped"] == 1
    assert doc["risk_stops"][0]["follower"] == F1
    assert doc["risk_stops"][0]["detail"] == "ROI -25% is below min_roi_pct -20"
    code, table, _ = await run_cli("status", env=daemon_env)
    assert "held by risk guards" in table and "min_roi_pct" in table

    await d.stop(signal.SIGKILL)  # no clean-up of any kind: the next daemon reads the disk
    await start_daemon(COPYTRADER_INTERVAL_SECONDS="0.5")
    await more_passes(2)
    assert status_of(sim, F1) == "stopped"
    assert len(audited("risk_stop")) == 1 and stops_sent(sim, bot["botId"]) == 1

    sim.state.set_roi(bot["botId"], 2.0)  # recovered on paper; still held until resumed
    await more_passes(2)
    assert status_of(sim, F1) == "stopped"
    code, out, err = await run_cli("resume", GRID[:10], F1[:8], env=daemon_env)
    assert code == 0, err
    assert "no longer held" in out
    await wait_for(lambda: status_of(sim, F1) == "running", "the resumed clone running")
    await more_passes(2)
    assert status_of(sim, F1) == "running"
    (resumed,) = audited("risk_resume")
    assert json.loads(resumed[0]) == {"min_roi_pct": [-25, -20]}
    assert len(audited("risk_stop")) == 1

    code, _, err = await run_cli("resume", GRID, F1, env=daemon_env)
    assert code == 2 and "is not held by a risk guard" in err
    code, _, err = await run_cli("resume", GRID, "nobody", env=daemon_env)
    assert code == 2 and "no follower of" in err
