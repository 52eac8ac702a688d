"""Under a binding rate limit, risk-reducing writes reach the platform first: against the real
simulator, the order in which it received the requests of one pass.

The client's limiter is made to bind hard (one request per 0.2 s) so that the pass's writes
queue for it. The pass has every kind of write: edits of a master edit, stops (and then
edits) of paused followers, stops and deletes of removed followers, clones and starts of new
followers, planned in the policy's order (new and edited followers first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.observe.audit import AuditTrail
from copytrader.platform.haas.client import PlatformClient
from copytrader.reconcile import wiring
from copytrader.reconcile.service import Reconciler
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import WRITE_PATHS
from copytrader.store.engine import open_store
from copytrader.store.lease import WriterLease
from copytrader.store.repo import SqlStore
from tests.reconcile.conftest import GRID, write_policy

#: The urgency of each write as the platform sees it (core.urgency: lower goes first).
URGENCY = {"/bots/stop": 0, "/bots/delete": 0, "/bots/edit": 1, "/bots/clone": 2, "/bots/start": 2}


def _policy(listed: list[str], paused: set[str]) -> str:
    lines = [f"master: {GRID}", "followers:"]
    for user in listed:
        lines.append(f"  - user: {user}")
        if user in paused:
            lines.append("    paused: true")
    lines += ["on_follower_removed: delete", "on_immutable_change: recreate", ""]
    return "\n".join(lines)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlStore]:
    s = await open_store(settings.database_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def lease(settings: Settings, store: SqlStore) -> AsyncIterator[WriterLease]:
    held = wiring.writer_lease(settings, store)
    assert await held.try_acquire()
    try:
        yield held
    finally:
        await held.close()


async def _pass(
    sim: SimServer, settings: Settings, store: SqlStore, lease: WriterLease, **limits: float
) -> None:
    """One pass through a client of its own (``limits``: its rate limit and window)."""
    async with PlatformClient(sim.url, settings.platform.api_key, concurrency=4, **limits) as c:  # type: ignore[arg-type]
        c.guard_writes(lambda: lease.check().stamp())
        reconciler = Reconciler(
            c,
            store,
            settings.policy_dir,
            lambda run_id: AuditTrail(store, run_id),
            concurrency=4,
            lease=lease,
        )
        result = await reconciler.run_pass()
        assert result.converged, result.to_json()


async def test_risk_reducing_writes_reach_the_platform_first_under_a_binding_rate_limit(
    sim: SimServer, settings: Settings, store: SqlStore, lease: WriterLease, policy_dir: Path
) -> None:
    users = {
        name: sim.state.create_user("BITMEXSPOT")
        for name in ("e1", "e2", "e3", "p1", "p2", "r1", "r2", "n1", "n2")
    }
    u = users.__getitem__
    (policy_dir / "grid.yaml").unlink()
    first = [u(n) for n in ("e1", "e2", "e3", "p1", "p2", "r1", "r2")]
    write_policy(policy_dir, "grid.yaml", _policy(first, set()))
    await _pass(sim, settings, store, lease, rate_limit_per_minute=None)

    # The master's owner edits it; p1, p2 are paused; r1, r2 removed; n1, n2 added first.
    sim.state.edit(GRID, {"stopValue": 4321})
    listed = [u(n) for n in ("n1", "n2", "e1", "e2", "e3", "p1", "p2")]
    write_policy(policy_dir, "grid.yaml", _policy(listed, {u("p1"), u("p2")}))
    mark = len(sim.state.requests)
    await _pass(sim, settings, store, lease, rate_limit_per_minute=1, rate_window=0.2)

    received = sorted(
        (r for r in sim.state.requests[mark:] if r.path in WRITE_PATHS), key=lambda r: r.ts
    )
    paths = [r.path for r in received]
    assert sorted(paths) == sorted(
        ["/bots/edit"] * 5
        + ["/bots/stop"] * 4
        + ["/bots/delete"] * 2
        + ["/bots/clone"] * 2
        + ["/bots/start"] * 2
    )
    # Every stop and delete before any edit, every edit before any clone or start, although
    # the removed followers' deletes could only queue once their stops were answered, after
    # the paused followers' edits.
    urgencies = [URGENCY[p] for p in paths]
    assert urgencies == sorted(urgencies), paths
