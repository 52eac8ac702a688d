"""A randomised crash loop: three replicas on one PostgreSQL database, 20 rounds of kill -9,
SIGSTOP (past the lease) and SIGTERM of random replicas while fan-outs run. At the end: no
duplicate clone, every follower converged, and every platform write truthfully in the audit
(the simulator's requests matched to audit events by the write id each request carries)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path

import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import EXPECTED, F1, F2, F3, GRID, clone_of, mismatches, wait_for
from tests.ha.conftest import Replica, base_env, duplicates
from tests.ha.test_failover_pg import LEASE, leader_of, pg
from tests.reliability.support import misrecorded_writes, write_requests

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROUNDS = 20


@pytest.mark.timeout(400)
async def test_random_crashes_never_duplicate_and_always_converge(
    sim: SimServer, policy_dir: Path, pg_url: str, replicas
) -> None:
    rng = random.Random(int(os.environ.get("CT_CRASH_SEED", "20261204")))
    sim.state.latency = 0.03
    env = base_env(sim, policy_dir, pg_url)
    env["COPYTRADER_LEASE_SECONDS"] = str(LEASE)
    group: list[Replica] = [await replicas(env, f"r{i}") for i in range(3)]
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "first convergence")
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    value = 3500
    for round_no in range(ROUNDS):
        value = 3500 + 10 * (round_no + 1)  # an editable key: a fan-out of edits to 2 clones
        grid.write_text(good.replace("stopValue: 3500\n", f"stopValue: {value}\n"),
                        encoding="utf-8")
        await asyncio.sleep(rng.uniform(0.0, 0.6))
        victim = rng.choice([r for r in group if r.alive()])
        how = rng.choice(["kill", "stop", "term"])
        if how == "kill":
            os.kill(victim.pid, signal.SIGKILL)
        elif how == "term":
            victim.send(signal.SIGTERM)
        else:
            os.kill(victim.pid, signal.SIGSTOP)
            await asyncio.sleep(rng.uniform(0.5, LEASE + 2))
            os.kill(victim.pid, signal.SIGCONT)
        if how != "stop":
            assert victim.proc is not None
            await victim.proc.wait()
            group[group.index(victim)] = await replicas(env, f"r{round_no}-{how}")
        await wait_for(lambda: leader_of(group), f"a leader after round {round_no}")

    def converged() -> bool:
        if mismatches(sim.state, EXPECTED | _stop_values(value)):
            return False
        return all(
            (clone := clone_of(sim.state, GRID, f)) is not None
            and float(clone["settings"]["stopValue"]) == want
            for f, want in ((F2, value), (F3, value), (F1, 3200))
        )

    await wait_for(converged, "converged after the crash loop", 60)
    assert duplicates(sim.state) == 0

    async def settled() -> bool:
        rows = await pg(pg_url, "SELECT count(*) AS n FROM audit_events WHERE outcome = 'pending'")
        return rows[0]["n"] == 0

    # The simulator converges a moment before the leader commits the last outcomes (they
    # follow the answers), so wait for those; a pending event no leader settles never goes.
    await wait_for(settled, "no write left pending (each leader settles its predecessors')")
    # Every platform write the simulator carried out is in the audit trail, truthfully: ok, or
    # unknown for one whose answer was lost (a crash: settled by the next leader; a pause past
    # the lease: the resend forbidden). Writes are matched by their audit key, not counted by
    # request: a resent edit is one write the simulator may have carried out twice.
    rows = await pg(pg_url, "SELECT event_key, ts, run_id, action, bot, outcome, error "
                    "FROM audit_events WHERE event_key IS NOT NULL ORDER BY ts, id")
    wrong = misrecorded_writes(write_requests(sim.state), [dict(row) for row in rows])
    assert not wrong, f"{len(wrong)} write(s) misrecorded:\n" + "\n".join(wrong)


def _stop_values(value: int) -> dict[tuple[str, str], tuple[str, dict[str, object]]]:
    """EXPECTED with the grid's default stop moved to ``value`` (F1 overrides its own)."""
    out = {}
    for (m, f), (status, settings) in EXPECTED.items():
        if m == GRID and settings.get("stopValue") == 3500:
            settings = {**settings, "stopValue": value}
        out[(m, f)] = (status, settings)
    return out
